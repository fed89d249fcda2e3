/* hyperfuse's C interface, the one the Python package loads with ctypes (python/hyperfuse): a
   search started in a native thread of its own and polled (progress, stop, result), and the
   study commands predict, export and report. Every string is UTF-8; a function that fails
   returns its exit status as the CLI would (2: bad config, data or usage; 1: runtime failure)
   and leaves the CLI's located message in hf_error_message(). */
#ifndef HYPERFUSE_C_H
#define HYPERFUSE_C_H

/* The library exports these functions only (hyperfuse_core's symbols stay inside it). */
#define HF_API __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

/* The message of this thread's last failed call ("" when none). */
HF_API const char* hf_error_message(void);

/* "hyperfuse VERSION" and a line per backend and for MPI, as `hyperfuse --version` prints. */
HF_API const char* hf_version(void);

typedef struct hf_search hf_search;

/* Loads the TOML config (throws nothing: a bad config returns 2 at once) and starts the search
   in a new native thread; `fresh` discards the study journal instead of resuming it. The
   search never installs signal handlers: the caller stops it with hf_search_stop. */
HF_API int hf_search_start(const char* config_path, int fresh, hf_search** search);

/* Waits up to timeout_ms for the search to end: 1 when it ended, 0 when it still runs. */
HF_API int hf_search_wait(hf_search* search, int timeout_ms);

/* Trainings done (earlier runs' included) and in all; 0 and 0 until the plan is made. */
HF_API void hf_search_progress(const hf_search* search, unsigned long long* done, unsigned long long* total);

/* Stops taking new work: the trainings in flight finish and commit, the result files are
   written for what is complete, and the search ends with status 130. */
HF_API void hf_search_stop(hf_search* search);

/* Once ended: 0 complete, 130 stopped by hf_search_stop, 2 or 1 failed (hf_search_error). */
HF_API int hf_search_status(const hf_search* search);
HF_API const char* hf_search_error(const hf_search* search);

/* The lines the CLI prints about the plan and the results (resumed trainings, notes). */
HF_API const char* hf_search_log(const hf_search* search);

/* Stops the search if it still runs, waits for it and frees it. */
HF_API void hf_search_free(hf_search* search);

/* `hyperfuse predict --study STUDY --rank RANK DATA`: the buy list's CSV text in *csv (free it
   with hf_free). */
HF_API int hf_predict(const char* study, int rank, const char* data_path, char** csv);

/* `hyperfuse export --study STUDY --rank RANK --onnx PATH`. */
HF_API int hf_export_onnx(const char* study, int rank, const char* onnx_path);

/* `hyperfuse report --study STUDY --out PATH`. */
HF_API int hf_report(const char* study, const char* html_path);

HF_API void hf_free(char* text);

#ifdef __cplusplus
}
#endif

#endif /* HYPERFUSE_C_H */
