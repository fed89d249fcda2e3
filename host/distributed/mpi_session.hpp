// One process's part in an MPI job: initialises MPI, knows its rank, and sends and receives the
// byte messages of the search protocol (protocol.hpp). Only the calling thread talks MPI.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace hf {

struct ReceivedMessage {
  int source = 0;
  int tag = 0;
  std::vector<char> bytes;
};

// The MPI library this build links, e.g. "Open MPI v4.1.4"; callable without an MPI job.
std::string mpi_library_version();

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();  // rank 0 stops every worker it has not stopped yet, then MPI is finalised
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& host() const { return host_; }
  // The rank's number among the ranks on its node, for choosing a GPU.
  int local_rank() const { return local_rank_; }

  // Returns once the message is sent; receives (for poll()) whatever comes in meanwhile.
  void send(int destination, int tag, const std::vector<char>& bytes);
  // A waiting message, if there is one; never blocks.
  std::optional<ReceivedMessage> poll();

  // Rank 0: tells every worker rank still listening to exit; safe to call more than once.
  void stop_workers();
  // Rank 0: a worker that stopped answering is sent nothing more.
  void mark_gone(int rank);
  // A worker: rank 0's stop message; after a lost rank, MPI is not finalised (see below).
  void obey_stop(const std::vector<char>& bytes);

 private:
  std::optional<ReceivedMessage> receive();  // MPI's next waiting message; never blocks

  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  std::string host_;
  std::deque<ReceivedMessage> inbox_;  // received while a send waited, in order of arrival
  bool workers_stopped_ = false;
  std::vector<bool> gone_;
  // MPI_Finalize waits for every rank, the dead one too (Open MPI 4, even with
  // --enable-recovery), so once a rank is lost the others exit without it.
  bool lost_rank_ = false;
};

}  // namespace hf
