// What the machine offers: MemAvailable, lowered by a cgroup v2 or v1 memory limit on the
// process's cgroup or an ancestor, plus what the process holds; read from fake /proc and /sys
// trees. And HYPERFUSE_AVAILABLE_MEMORY, which replaces the figure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>

#include "host/common/errors.hpp"
#include "host/run/machine_memory.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::write_text;

constexpr std::size_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// A fake root: meminfo with `available` bytes, and a process holding 100 pages.
fs::path fake_root(std::size_t available) {
  const fs::path root = testing::scratch_dir("root");
  write_text(root / "proc/meminfo", "MemTotal:       24684084 kB\nMemFree:         1000 kB\nMemAvailable:   " +
                                        std::to_string(available / kKiB) + " kB\nBuffers:           1 kB\n");
  write_text(root / "proc/self/statm", "5000 100 50 10 0 200 0\n");
  return root;
}

void cgroup_v2(const fs::path& root, const std::string& path, const std::string& mount_root = "/") {
  write_text(root / "proc/self/cgroup", "0::" + path + "\n");
  write_text(root / "proc/self/mountinfo",
             "24 30 0:22 / /proc rw,nosuid - proc proc rw\n"
             "35 24 0:30 " +
                 mount_root +
                 " /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
                 "rw,nsdelegate,memory_recursiveprot\n");
}

TEST(MachineMemory, MemAvailablePlusWhatTheProcessHolds) {
  const fs::path root = fake_root(6 * kGiB);
  const HostMemory memory = host_memory_from(root);
  EXPECT_EQ(memory.available_bytes, 6 * kGiB + 100 * page_size());
  EXPECT_NE(memory.source.find("MemAvailable in /proc/meminfo"), std::string::npos) << memory.source;
}

TEST(MachineMemory, OldKernelsWithoutMemAvailableCountFreeMemoryAndTheCache) {
  const fs::path root = testing::scratch_dir("root");
  write_text(root / "proc/meminfo", "MemTotal: 8000 kB\nMemFree: 1000 kB\nBuffers: 200 kB\nCached: 300 kB\n");
  EXPECT_EQ(host_memory_from(root).available_bytes, 1500 * kKiB);
}

TEST(MachineMemory, WithoutMeminfoNothingIsRefused) {
  const HostMemory memory = host_memory_from(testing::scratch_dir("empty"));
  EXPECT_EQ(memory.available_bytes, std::numeric_limits<std::size_t>::max());
  EXPECT_NE(memory.source.find("unknown"), std::string::npos);
}

TEST(MachineMemory, ACgroupV2LimitBelowMemAvailableWins) {
  const fs::path root = fake_root(20 * kGiB);
  cgroup_v2(root, "/user.slice/job");
  const fs::path group = root / "sys/fs/cgroup/user.slice/job";
  write_text(group / "memory.max", std::to_string(4 * kGiB) + "\n");
  write_text(group / "memory.current", std::to_string(kGiB + 200 * kMiB) + "\n");
  // 200 MiB of the usage is page cache the kernel can drop.
  write_text(group / "memory.stat", "anon 1073741824\nfile 209715200\ninactive_file 209715200\nactive_file 0\n");
  const HostMemory memory = host_memory_from(root);
  EXPECT_EQ(memory.available_bytes, 3 * kGiB + 100 * page_size());
  EXPECT_NE(memory.source.find("cgroup memory limit of 4.00 GiB in /sys/fs/cgroup/user.slice/job/memory.max"),
            std::string::npos)
      << memory.source;
}

TEST(MachineMemory, NoCgroupV2LimitLeavesMemAvailable) {
  const fs::path root = fake_root(20 * kGiB);
  cgroup_v2(root, "/user.slice/job");
  write_text(root / "sys/fs/cgroup/user.slice/job/memory.max", "max\n");
  write_text(root / "sys/fs/cgroup/user.slice/job/memory.current", "1000\n");
  EXPECT_EQ(host_memory_from(root).available_bytes, 20 * kGiB + 100 * page_size());
}

TEST(MachineMemory, AnAncestorsTighterLimitApplies) {
  const fs::path root = fake_root(20 * kGiB);
  cgroup_v2(root, "/batch/job");
  write_text(root / "sys/fs/cgroup/batch/job/memory.max", std::to_string(8 * kGiB));
  write_text(root / "sys/fs/cgroup/batch/job/memory.current", std::to_string(kGiB));
  write_text(root / "sys/fs/cgroup/batch/memory.max", std::to_string(3 * kGiB));
  write_text(root / "sys/fs/cgroup/batch/memory.current", std::to_string(2 * kGiB));
  EXPECT_EQ(host_memory_from(root).available_bytes, kGiB + 100 * page_size());
}

TEST(MachineMemory, AContainersCgroupIsTheMountsRoot) {
  const fs::path root = fake_root(20 * kGiB);
  // Without a cgroup namespace the container sees its host path, mounted as the root.
  cgroup_v2(root, "/docker/abc123", "/docker/abc123");
  write_text(root / "sys/fs/cgroup/memory.max", std::to_string(2 * kGiB));
  write_text(root / "sys/fs/cgroup/memory.current", std::to_string(512 * kMiB));
  EXPECT_EQ(host_memory_from(root).available_bytes, 1536 * kMiB + 100 * page_size());
}

TEST(MachineMemory, ACgroupV1LimitApplies) {
  const fs::path root = fake_root(20 * kGiB);
  write_text(root / "proc/self/cgroup", "9:name=systemd:/\n4:memory:/jobs/42\n3:cpuset:/\n0::/\n");
  write_text(root / "proc/self/mountinfo",
             "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
             "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
             "40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
  const fs::path group = root / "sys/fs/cgroup/memory/jobs/42";
  write_text(group / "memory.limit_in_bytes", std::to_string(6 * kGiB));
  write_text(group / "memory.usage_in_bytes", std::to_string(3 * kGiB));
  write_text(group / "memory.stat", "cache 1073741824\ninactive_file 5\ntotal_inactive_file 1073741824\n");
  // The root's "no limit" is the largest page-aligned 64-bit number.
  write_text(root / "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  write_text(root / "sys/fs/cgroup/memory/memory.usage_in_bytes", "3076100096\n");
  const HostMemory memory = host_memory_from(root);
  EXPECT_EQ(memory.available_bytes, 4 * kGiB + 100 * page_size());
  EXPECT_NE(memory.source.find("/sys/fs/cgroup/memory/jobs/42/memory.limit_in_bytes"), std::string::npos)
      << memory.source;
}

TEST(MachineMemory, TheRealMachineOffersSomething) {
  const HostMemory memory = host_memory_from("/");
  EXPECT_GT(memory.available_bytes, 0u) << memory.source;
  EXPECT_GT(peak_resident_bytes(), 0u);
}

TEST(MachineMemory, ByteCountsInBytesOrBinaryUnits) {
  EXPECT_EQ(parse_byte_count("8589934592"), std::optional<std::size_t>(8 * kGiB));
  EXPECT_EQ(parse_byte_count("8G"), std::optional<std::size_t>(8 * kGiB));
  EXPECT_EQ(parse_byte_count("8GiB"), std::optional<std::size_t>(8 * kGiB));
  EXPECT_EQ(parse_byte_count("512m"), std::optional<std::size_t>(512 * kMiB));
  EXPECT_EQ(parse_byte_count("64K"), std::optional<std::size_t>(64 * kKiB));
  EXPECT_EQ(parse_byte_count("2T"), std::optional<std::size_t>(2048 * kGiB));
  for (const char* bad : {"", "0", "-1", "8 G", "8X", "G", "1.5G", "99999999999999999999", "16777216T"})
    EXPECT_EQ(parse_byte_count(bad), std::nullopt) << bad;
}

class AvailableMemoryVariable : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv(kAvailableMemoryVariable); }
};

TEST_F(AvailableMemoryVariable, ReplacesTheMachinesFigure) {
  ::setenv(kAvailableMemoryVariable, "3G", 1);
  const HostMemory memory = host_memory();
  EXPECT_EQ(memory.available_bytes, 3 * kGiB);
  EXPECT_EQ(memory.source, "HYPERFUSE_AVAILABLE_MEMORY=3G");
}

TEST_F(AvailableMemoryVariable, NotASizeIsAnInputErrorNamingIt) {
  ::setenv(kAvailableMemoryVariable, "lots", 1);
  try {
    host_memory();
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("HYPERFUSE_AVAILABLE_MEMORY='lots'"), std::string::npos) << message;
    EXPECT_NE(message.find("e.g. 8G"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace hf
