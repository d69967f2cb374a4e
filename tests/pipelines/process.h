// A child process for the end-to-end tests: argv in, stdout and stderr to
// files, waits with a bound (a hung pipeline fails the test instead of the
// suite's timeout), signals. POSIX only, like the pipelines themselves.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hicomex::test {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Process {
 public:
  /// Starts argv[0] (a path) with stdout/stderr written to `log_prefix`.out/.err.
  Process(std::vector<std::string> argv, const std::string& log_prefix)
      : out_(log_prefix + ".out"), err_(log_prefix + ".err") {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int o = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(o, 1);
      dup2(e, 2);
      const int null_in = open("/dev/null", O_RDONLY);
      dup2(null_in, 0);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() {
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running() {
    if (done_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) finish(status);
    return !done_;
  }
  /// Waits at most `limit`; true if it exited (exit_code() is then valid).
  bool wait(std::chrono::duration<double> limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (running()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }
  /// Waits until stderr (or stdout) contains `text`, or the process ends.
  bool wait_for_output(const std::string& text, std::chrono::duration<double> limit,
                       bool on_stdout = false) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if ((on_stdout ? out() : err()).find(text) != std::string::npos) return true;
      if (!running()) return (on_stdout ? out() : err()).find(text) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  void signal(int sig) {
    if (running()) kill(pid_, sig);
  }
  /// Exit status, or 128 + signal number when killed by a signal.
  int exit_code() const { return code_; }
  std::string out() const { return read_text(out_); }
  std::string err() const { return read_text(err_); }

 private:
  void finish(int status) {
    done_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string out_, err_;
  pid_t pid_ = -1;
  bool done_ = false;
  int code_ = -1;
};

}  // namespace hicomex::test
