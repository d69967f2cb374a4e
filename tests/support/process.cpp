#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "text_files.h"

extern char** environ;

namespace hicomex::test {

namespace {

using Clock = std::chrono::steady_clock;

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// What the child needs, prepared before fork(): after it only
// async-signal-safe calls are allowed (the test may run threads).
struct ChildSetup {
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, envp;

  ChildSetup(const std::vector<std::string>& args, const SpawnOptions& o) : argv_storage(args) {
    if (argv_storage.empty()) throw std::invalid_argument("test_support: an empty argv");
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (char** e = environ; e && *e; ++e) {
      const std::string entry = *e;
      const std::string key = entry.substr(0, entry.find('='));
      bool replaced = false;
      for (const auto& kv : o.env) replaced |= kv.first == key;
      if (!replaced) env_storage.push_back(entry);
    }
    for (const auto& [k, v] : o.env) env_storage.push_back(k + "=" + v);
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

void write_all(int fd, const char* s) {
  for (std::size_t n = std::strlen(s); n > 0;) {
    const ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Forks a child with stdin from /dev/null, stdout/stderr on out_fd/err_fd,
// in its own process group, and execs argv. Returns its pid once exec has
// happened or failed; `exec_errno` is then 0 or why it failed (the child has
// exited with 127 after writing the reason to its stderr).
pid_t start_child(const std::vector<std::string>& args, const SpawnOptions& o, int out_fd, int err_fd,
                  int& exec_errno) {
  ChildSetup setup(args, o);
  const char* cwd = o.cwd.empty() ? nullptr : o.cwd.c_str();
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error("test_support: pipe failed");
  const pid_t pid = fork();
  if (pid < 0) {
    close(report[0]);
    close(report[1]);
    throw std::runtime_error("test_support: fork failed");
  }
  if (pid == 0) {
    setpgid(0, 0);
    // A clean start whatever the test (or whoever started it) did: no blocked
    // signals, none ignored (an ignored SIGINT would stay ignored in the program).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig)
      if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
    const int null_in = open("/dev/null", O_RDONLY);
    if (null_in >= 0) dup2(null_in, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    // Nothing else of the test's leaks into the program: every other
    // descriptor closes on exec (the report pipe already does).
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
      for (int fd = 3; fd < 4096; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
    int err = 0;
    if (cwd && chdir(cwd) != 0) {
      err = errno;
      write_all(2, "test_support: cannot enter ");
      write_all(2, cwd);
    } else {
      execvpe(setup.argv[0], setup.argv.data(), setup.envp.data());
      err = errno;
      write_all(2, "test_support: cannot run ");
      write_all(2, setup.argv[0]);
    }
    write_all(2, ": ");
    write_all(2, strerror(err));
    write_all(2, "\n");
    (void)!::write(report[1], &err, sizeof err);
    _exit(127);
  }
  setpgid(pid, pid);  // also from here, so that it holds whichever side runs first
  close(report[1]);
  exec_errno = 0;
  int got = 0;
  ssize_t n;
  while ((n = read(report[0], &got, sizeof got)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof got)) exec_errno = got;
  close(report[0]);
  return pid;
}

void kill_group(pid_t pid) {
  killpg(pid, SIGKILL);
  kill(pid, SIGKILL);  // in case it left the group
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  RunResult r;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("test_support: pipe failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw std::runtime_error("test_support: pipe failed");
  }
  int exec_errno = 0;
  pid_t pid;
  try {
    pid = start_child(argv, options, out_pipe[1], err_pipe[1], exec_errno);
  } catch (...) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    throw;
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (exec_errno != 0) {
    waitpid(pid, nullptr, 0);
    close(out_pipe[0]);
    close(err_pipe[0]);
    r.status = -1;
    r.err = "cannot run " + (argv.empty() ? std::string() : argv[0]) +
            (options.cwd.empty() ? std::string() : " in " + options.cwd) + ": " + std::strerror(exec_errno);
    return r;
  }

  const auto start = Clock::now();
  const bool bounded = options.timeout_s > 0;
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.timeout_s));
  // Once the program has exited, output still held by something it left
  // running is waited for this long, then given up.
  constexpr auto kDrainAfterExit = std::chrono::seconds(5);
  Clock::time_point exited_at{};
  bool reaped = false;
  int wait_status = 0;
  int fds[2] = {out_pipe[0], err_pipe[0]};
  std::string* sinks[2] = {&r.out, &r.err};

  auto reap = [&](int flags) {
    if (reaped) return;
    const pid_t w = waitpid(pid, &wait_status, flags);
    if (w == pid || (w < 0 && errno == ECHILD)) {
      reaped = true;
      exited_at = Clock::now();
      if (w < 0) wait_status = -1;
    }
  };

  while (fds[0] >= 0 || fds[1] >= 0) {
    reap(WNOHANG);
    const auto now = Clock::now();
    if (reaped && now - exited_at > kDrainAfterExit) {
      killpg(pid, SIGKILL);  // what it left behind holds the pipes: end it
      break;
    }
    if (bounded && !reaped && now >= deadline) {
      kill_group(pid);
      r.timed_out = true;
      reap(0);
      continue;  // drain what is left (bounded by kDrainAfterExit)
    }
    pollfd p[2];
    nfds_t n = 0;
    int which[2];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) {
        p[n] = {fds[i], POLLIN, 0};
        which[n++] = i;
      }
    const int ready = poll(p, n, 100);
    if (ready < 0 && errno != EINTR) break;
    for (nfds_t k = 0; ready > 0 && k < n; ++k) {
      if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t got = read(p[k].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[which[k]]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[which[k]]);
        fds[which[k]] = -1;
      }
    }
  }
  for (int fd : fds)
    if (fd >= 0) close(fd);
  reap(0);
  r.status = wait_status == -1 ? -1 : exit_code_of(wait_status);
  if (r.timed_out) {
    r.err +=
        "\ntest_support: " + argv[0] + " killed after its time limit of " + std::to_string(options.timeout_s) + " s\n";
  }
  return r;
}

RunResult run_shell(const std::string& command, const RunOptions& options) {
  return run({"/bin/sh", "-c", command}, options);
}

Process::Process(std::vector<std::string> argv, const std::string& log_prefix, const SpawnOptions& options)
    : out_(log_prefix + ".out"), err_(log_prefix + ".err") {
  const int o = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int e = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o < 0 || e < 0) {
    if (o >= 0) close(o);
    if (e >= 0) close(e);
    throw std::runtime_error("test_support: cannot write the logs " + log_prefix + ".out/.err");
  }
  int exec_errno = 0;  // a failed exec shows as exit code 127 and its reason in err()
  try {
    pid_ = start_child(argv, options, o, e, exec_errno);
  } catch (...) {
    close(o);
    close(e);
    throw;
  }
  close(o);
  close(e);
}

Process::~Process() {
  if (running()) {
    kill_group(pid_);
    waitpid(pid_, nullptr, 0);
  } else {
    killpg(pid_, SIGKILL);  // whatever it started and left running
  }
}

bool Process::running() {
  if (done_) return false;
  int status = 0;
  const pid_t w = waitpid(pid_, &status, WNOHANG);
  if (w == pid_)
    finish(status);
  else if (w < 0 && errno == ECHILD)
    done_ = true;
  return !done_;
}

bool Process::wait(std::chrono::duration<double> limit) {
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(limit);
  while (running()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

bool Process::wait_for_output(const std::string& text, std::chrono::duration<double> limit, bool on_stdout) {
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(limit);
  while (Clock::now() < end) {
    if ((on_stdout ? out() : err()).find(text) != std::string::npos) return true;
    if (!running()) return (on_stdout ? out() : err()).find(text) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void Process::signal(int sig) {
  if (running()) kill(pid_, sig);
}

std::string Process::out() const { return read_text(out_); }
std::string Process::err() const { return read_text(err_); }

void Process::finish(int status) {
  done_ = true;
  code_ = exit_code_of(status);
}

}  // namespace hicomex::test
