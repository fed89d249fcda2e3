#include "host/distributed/mpi_session.hpp"

#include <mpi.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "host/distributed/protocol.hpp"

namespace hf {
namespace {

void check(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw std::runtime_error(std::string("MPI: ") + what + " failed: " + std::string(text, length));
}

}  // namespace

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, static_cast<std::size_t>(length));
  // The first line names the library and version; the rest is build detail.
  const std::size_t end = version.find_first_of(",\n");
  return version.substr(0, end);
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  // Worker threads train while the main thread alone talks MPI.
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as status codes, so a dead peer is an exception here, not an abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  gone_.assign(static_cast<std::size_t>(size_), false);
  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  MPI_Get_processor_name(name, &length);
  host_.assign(name, length);
  MPI_Comm node;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_free(&node);
  }
}

MpiSession::~MpiSession() {
  if (rank_ == 0) {
    try {
      stop_workers();
    } catch (...) {
      // Finalising matters more than a worker that can no longer be told.
    }
  }
  if (!lost_rank_) MPI_Finalize();
}

void MpiSession::send(int destination, int tag, const std::vector<char>& bytes) {
  // Not MPI_Send: a message too large to go eagerly (halving's orders carry training states, its
  // results the states back) waits for its receiver, and a receiver that is itself sending such
  // a message would wait for us: both would block for ever. While ours waits, what comes in is
  // received and kept for poll().
  MPI_Request request;
  check(MPI_Isend(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, destination, tag, MPI_COMM_WORLD, &request),
        "MPI_Isend");
  while (true) {
    int sent = 0;
    check(MPI_Test(&request, &sent, MPI_STATUS_IGNORE), "MPI_Test");
    if (sent) return;
    if (auto message = receive()) {
      inbox_.push_back(std::move(*message));
    } else {
      std::this_thread::yield();
    }
  }
}

std::optional<ReceivedMessage> MpiSession::poll() {
  if (!inbox_.empty()) {
    ReceivedMessage message = std::move(inbox_.front());
    inbox_.pop_front();
    return message;
  }
  return receive();
}

std::optional<ReceivedMessage> MpiSession::receive() {
  int waiting = 0;
  MPI_Status status;
  check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &waiting, &status), "MPI_Iprobe");
  if (!waiting) return std::nullopt;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  ReceivedMessage message;
  message.source = status.MPI_SOURCE;
  message.tag = status.MPI_TAG;
  message.bytes.resize(static_cast<std::size_t>(count));
  check(MPI_Recv(message.bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE),
        "MPI_Recv");
  return message;
}

void MpiSession::stop_workers() {
  if (rank_ != 0 || workers_stopped_) return;
  workers_stopped_ = true;
  for (int r = 1; r < size_; ++r) {
    if (gone_[static_cast<std::size_t>(r)]) continue;
    try {
      send(r, kTagStop, {static_cast<char>(lost_rank_ ? 1 : 0)});
    } catch (const std::exception&) {
      // A dead rank needs no telling.
    }
  }
}

void MpiSession::mark_gone(int rank) {
  gone_.at(static_cast<std::size_t>(rank)) = true;
  lost_rank_ = true;
}

void MpiSession::obey_stop(const std::vector<char>& bytes) {
  if (!bytes.empty() && bytes[0] == 1) lost_rank_ = true;
}

}  // namespace hf
