#include "host/report/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "host/common/errors.hpp"

namespace hf {

void write_file_atomically(const std::filesystem::path& path, const std::string& contents) {
  const std::filesystem::path temporary = path.string() + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error(temporary.string() + ": cannot create (" + std::strerror(errno) +
                             "); check that the output folder is writable");
  }
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      throw std::runtime_error(temporary.string() + ": write failed (" + reason + "); " + path.string() +
                               " was left unchanged");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw std::runtime_error(temporary.string() + ": could not be flushed (" + reason + "); " + path.string() +
                             " was left unchanged");
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    ::unlink(temporary.c_str());
    throw std::runtime_error(path.string() + ": cannot replace (" + error.message() + ")");
  }
}

void require_file_destination(const std::filesystem::path& path, const std::string& option) {
  const std::filesystem::path folder = path.parent_path().empty() ? "." : path.parent_path();
  if (!std::filesystem::is_directory(folder)) {
    throw InputError(option + " " + path.string() + ": the folder " + folder.string() +
                     " does not exist; create it first or choose another path");
  }
  if (std::filesystem::is_directory(path)) {
    throw InputError(option + " " + path.string() + ": is a folder; give a file name");
  }
  if (::access(folder.c_str(), W_OK) != 0) {
    throw InputError(option + " " + path.string() + ": the folder " + folder.string() +
                     " is not writable; choose another path");
  }
}

}  // namespace hf
