// The C interface over hyperfuse_core (hyperfuse_c.h): the CLI's commands as functions that
// return its exit statuses and messages instead of printing them, for the Python package.
#include "host/c_api/hyperfuse_c.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#ifdef __GLIBC__  // defined by the standard headers above
#include <malloc.h>
#endif

#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"
#include "host/export/onnx_export.hpp"
#include "host/predict/buy_list.hpp"
#include "host/report/atomic_file.hpp"
#include "host/run/run_search.hpp"
#include "host/study_report/study_report.hpp"
#include "kernels/backend_registry.hpp"

#ifndef HYPERFUSE_VERSION
#define HYPERFUSE_VERSION "unknown"
#endif

namespace {

thread_local std::string last_error;

// Runs `body` as the CLI's main would: its exit status, and the message in last_error.
template <typename Body>
int guarded(Body&& body) {
  last_error.clear();
  try {
    body();
    return 0;
  } catch (const hf::InputError& e) {
    last_error = e.what();
    return 2;
  } catch (const std::bad_alloc&) {
    last_error = "out of memory outside training (loading the data, planning the search or writing its results)";
    return 1;
  } catch (const std::exception& e) {
    last_error = e.what();
    return 1;
  }
}

char* copy_of(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy) std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

}  // namespace

struct hf_search {
  hf::SearchConfig config;
  bool fresh = false;
  std::atomic<bool> stop_requested{false};
  std::atomic<unsigned long long> done{0};
  std::atomic<unsigned long long> total{0};
  std::mutex mutex;  // guards everything below
  std::condition_variable ended_signal;
  bool ended = false;
  int status = 0;
  std::string error;
  std::string log;
  std::thread thread;

  void add_log(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    log += line + "\n";
  }

  void run() {
    hf::SearchOptions options;
    options.fresh = fresh;
    options.should_stop = [this] { return stop_requested.load(); };
    const auto on_plan = [this](const hf::SearchSummary& s) {
      total = s.trainings_total;
      done = s.trainings_resumed;
      if (!s.memory_notice.empty()) add_log(s.memory_notice);
      if (s.trainings_resumed > 0) {
        add_log("hyperfuse: resuming the study in " + s.journal_path.string() + ": " +
                std::to_string(s.trainings_resumed) + " of " + std::to_string(s.trainings_total) +
                " trainings already done");
      }
    };
    const auto on_progress = [this](std::size_t trainings_done, std::size_t trainings_total) {
      done = trainings_done;
      total = trainings_total;
    };
    hf::SearchSummary summary;
    const int result = guarded([&] { summary = hf::run_search(config, options, on_plan, on_progress); });
    std::lock_guard<std::mutex> lock(mutex);
    status = result;
    error = last_error;
    if (result == 0 && summary.stopped) {
      status = 130;
      log += "hyperfuse: stopped; " + std::to_string(summary.trainings_done) + " of " +
             std::to_string(summary.trainings_total) + " trainings are done and in " + summary.journal_path.string() +
             "; run the same search again to resume\n";
    }
    ended = true;
    ended_signal.notify_all();
  }
};

extern "C" {

const char* hf_error_message(void) { return last_error.c_str(); }

const char* hf_version(void) {
  static const std::string text = [] {
    std::string t = std::string("hyperfuse ") + HYPERFUSE_VERSION + "\n";
    for (const hf::BackendEntry& backend : hf::registered_backends())
      t += "backend " + backend.name + ": " + backend.description + "\n";
    return t;
  }();
  return text.c_str();
}

int hf_search_start(const char* config_path, int fresh, hf_search** search) {
  *search = nullptr;
#ifdef __GLIBC__
  // As the CLI's main does: large arrays go back to the kernel when freed, so a worker's peak
  // stays what the memory plan counts (host/cli/main.cpp says why).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  auto started = std::make_unique<hf_search>();
  const int status = guarded([&] { started->config = hf::load_search_config(config_path); });
  if (status != 0) return status;
  started->fresh = fresh != 0;
  hf_search* raw = started.get();
  raw->thread = std::thread([raw] { raw->run(); });
  *search = started.release();
  return 0;
}

int hf_search_wait(hf_search* search, int timeout_ms) {
  std::unique_lock<std::mutex> lock(search->mutex);
  return search->ended_signal.wait_for(lock, std::chrono::milliseconds(timeout_ms), [search] { return search->ended; })
             ? 1
             : 0;
}

void hf_search_progress(const hf_search* search, unsigned long long* done, unsigned long long* total) {
  *done = search->done.load();
  *total = search->total.load();
}

void hf_search_stop(hf_search* search) { search->stop_requested = true; }

int hf_search_status(const hf_search* search) {
  std::lock_guard<std::mutex> lock(const_cast<hf_search*>(search)->mutex);
  return search->status;
}

const char* hf_search_error(const hf_search* search) {
  std::lock_guard<std::mutex> lock(const_cast<hf_search*>(search)->mutex);
  return search->error.c_str();
}

const char* hf_search_log(const hf_search* search) {
  std::lock_guard<std::mutex> lock(const_cast<hf_search*>(search)->mutex);
  return search->log.c_str();
}

void hf_search_free(hf_search* search) {
  if (!search) return;
  search->stop_requested = true;
  if (search->thread.joinable()) search->thread.join();
  delete search;
}

int hf_predict(const char* study, int rank, const char* data_path, char** csv) {
  *csv = nullptr;
  return guarded([&] {
    const hf::BuyList list = hf::make_buy_list(study, rank, data_path);
    *csv = copy_of(list.csv);
    if (!*csv) throw std::bad_alloc();
  });
}

int hf_export_onnx(const char* study, int rank, const char* onnx_path) {
  return guarded([&] {
    hf::require_file_destination(onnx_path, "path");
    const hf::StoredModels models(study);
    hf::write_file_atomically(onnx_path, hf::onnx_model(models.ensemble(rank), models.inputs()));
  });
}

int hf_report(const char* study, const char* html_path) {
  return guarded([&] {
    if (!std::filesystem::is_directory(study)) {
      throw hf::InputError(std::string(study) + ": no such folder; give the output folder of a search");
    }
    hf::require_file_destination(html_path, "path");
    hf::write_file_atomically(html_path, hf::make_study_report(study).html);
  });
}

void hf_free(char* text) { std::free(text); }

}  // extern "C"
