// Programs run by the tests as child processes (POSIX): run() runs one to the
// end and captures its stdout and stderr apart; Process starts one in the
// background with its output in files, for tests that talk to it while it runs.
//
// Every child gets /dev/null as stdin, none of the test's other file
// descriptors, default signal dispositions and an empty signal mask, and a
// process group of its own, so that a timeout or the end of a Process also
// ends whatever the program started.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace hicomex::test {

struct SpawnOptions {
  /// Working directory of the child; empty: the test's own.
  std::string cwd;
  /// Variables set (or replaced) on top of the test's environment.
  std::vector<std::pair<std::string, std::string>> env;
};

struct RunOptions : SpawnOptions {
  /// Wall-clock limit in seconds; 0: none. When it runs out, the child's
  /// process group is killed (SIGKILL) and the result says timed_out.
  double timeout_s = 0;
};

struct RunResult {
  /// Exit code; 128 + N when a signal N ended it; -1 when it could not be
  /// started at all (err then says why).
  int status = -1;
  bool timed_out = false;
  std::string out, err;
};

/// Runs argv (argv[0] is looked up in PATH unless it holds a '/') and waits
/// for it, capturing stdout and stderr separately.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});
/// Runs `command` with /bin/sh -c (redirections, pipes and variables work).
RunResult run_shell(const std::string& command, const RunOptions& options = {});

/// A program running in the background, its stdout and stderr written to
/// files. Its process group (the program and what it started) is killed when
/// the object goes away.
class Process {
 public:
  /// Starts argv (argv[0] looked up as run() does) with stdout/stderr written
  /// to `log_prefix`.out / `log_prefix`.err. A program that cannot be started
  /// ends at once with exit code 127 and the reason in err().
  Process(std::vector<std::string> argv, const std::string& log_prefix, const SpawnOptions& options = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running();
  /// Waits at most `limit`; true if it exited (exit_code() is then valid).
  bool wait(std::chrono::duration<double> limit);
  /// Waits until stderr (or stdout) contains `text`, or the process ends.
  bool wait_for_output(const std::string& text, std::chrono::duration<double> limit, bool on_stdout = false);
  /// Sends `sig` to the program itself (not its group), if it still runs.
  void signal(int sig);
  /// Exit status, or 128 + signal number when killed by a signal.
  int exit_code() const { return code_; }
  std::string out() const;
  std::string err() const;
  pid_t pid() const { return pid_; }

 private:
  void finish(int status);

  std::string out_, err_;
  pid_t pid_ = -1;
  bool done_ = false;
  int code_ = -1;
};

}  // namespace hicomex::test
