#include "etranslation/apertium.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

extern char** environ;

namespace bbgw::etranslation {

std::string iso639_3(std::string_view c) {
  static std::map<std::string_view, std::string_view> const codes{
      {"AR", "ara"}, {"BG", "bul"}, {"CA", "cat"}, {"CS", "ces"}, {"CY", "cym"}, {"DA", "dan"},
      {"DE", "deu"}, {"EL", "ell"}, {"EN", "eng"}, {"EO", "epo"}, {"ES", "spa"}, {"ET", "est"},
      {"EU", "eus"}, {"FA", "fas"}, {"FI", "fin"}, {"FR", "fra"}, {"GA", "gle"}, {"GL", "glg"},
      {"HR", "hbs"}, {"HU", "hun"}, {"IS", "isl"}, {"IT", "ita"}, {"KK", "kaz"}, {"LT", "lit"},
      {"LV", "lav"}, {"MK", "mkd"}, {"MT", "mlt"}, {"NB", "nob"}, {"NL", "nld"}, {"NN", "nno"},
      {"OC", "oci"}, {"PL", "pol"}, {"PT", "por"}, {"RO", "ron"}, {"RU", "rus"}, {"SK", "slk"},
      {"SL", "slv"}, {"SQ", "sqi"}, {"SR", "srp"}, {"SV", "swe"}, {"TR", "tur"}, {"UK", "ukr"},
      {"UR", "urd"}};
  auto it = codes.find(c);
  return it == codes.end() ? std::string{} : std::string(it->second);
}

child_result run_child(std::vector<std::string> const& argv, std::string_view input,
                       std::chrono::milliseconds timeout, std::size_t max_output) {
  child_result res;
  // Plain pipes (the apertium script opens /dev/stdin, which a socket would not allow). Writes
  // happen with SIGPIPE blocked in this thread, so a child that exits early gives EPIPE.
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return res;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return res;
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    return res;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  std::vector<char*> args;
  for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return res;
  }
  res.started = true;
  for (int fd : {in[1], out[0], err[0]}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t written = 0;
  int in_fd = in[1];
  auto close_in = [&] {
    if (in_fd >= 0) close(in_fd);
    in_fd = -1;
  };
  if (input.empty()) close_in();
  sigset_t pipe_set, old_mask;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  bool out_open = true, err_open = true;
  char buf[16384];
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    int i_out = -1, i_err = -1, i_in = -1;
    if (out_open) fds[i_out = n++] = {out[0], POLLIN, 0};
    if (err_open) fds[i_err = n++] = {err[0], POLLIN, 0};
    if (in_fd >= 0 && written < input.size()) fds[i_in = n++] = {in_fd, POLLOUT, 0};
    int pr =
        poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<long>(left.count(), 1000)));
    if (pr < 0 && errno != EINTR) break;
    if (pr <= 0) continue;
    if (i_in >= 0 && (fds[i_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
      pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
      auto w = write(in_fd, input.data() + written, input.size() - written);
      int saved = errno;
      if (w < 0 && saved == EPIPE) {
        timespec zero{};
        sigtimedwait(&pipe_set, nullptr, &zero);  // consume the pending SIGPIPE
      }
      pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (w < 0 && saved != EAGAIN && saved != EINTR) written = input.size();  // child gone
      if (written == input.size()) close_in();
    }
    auto drain = [&](int idx, int fd, std::string& to, bool& open) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      auto r = read(fd, buf, sizeof buf);
      if (r > 0) {
        if (to.size() < max_output)
          to.append(buf,
                    std::min<std::size_t>(static_cast<std::size_t>(r), max_output - to.size()));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        open = false;
      }
    };
    drain(i_out, out[0], res.out, out_open);
    drain(i_err, err[0], res.err, err_open);
  }
  if (res.timed_out) kill(-pid, SIGKILL);  // the whole pipeline, not only the shell
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!res.timed_out) kill(-pid, SIGKILL);  // stragglers of the pipeline, if any
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  close_in();
  close(out[0]);
  close(err[0]);
  return res;
}

apertium_backend::apertium_backend(apertium_config cfg) : cfg_(std::move(cfg)) {
  if (access(cfg_.command.c_str(), X_OK) != 0) return;
  std::vector<std::string> argv{cfg_.command};
  if (!cfg_.data_dir.empty()) argv.insert(argv.end(), {"-d", cfg_.data_dir});
  argv.push_back("-l");
  auto r = run_child(argv, {}, cfg_.timeout);
  std::size_t pos = 0;
  while (pos < r.out.size()) {
    auto eol = r.out.find('\n', pos);
    if (eol == std::string::npos) eol = r.out.size();
    auto line = r.out.substr(pos, eol - pos);
    pos = eol + 1;
    line.erase(0, line.find_first_not_of(" \t"));
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (!line.empty() && line.find(' ') == std::string::npos) modes_.push_back(line);
  }
}

std::optional<std::string> apertium_backend::mode_for(std::string_view source,
                                                      std::string_view target) const {
  auto low = [](std::string_view s) {
    std::string o(s);
    for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
  };
  std::vector<std::string> names{low(source) + "-" + low(target)};
  auto s3 = iso639_3(source), t3 = iso639_3(target);
  if (!s3.empty() && !t3.empty()) names.push_back(s3 + "-" + t3);
  for (auto const& n : names)
    if (std::find(modes_.begin(), modes_.end(), n) != modes_.end()) return n;
  return std::nullopt;
}

std::string apertium_backend::installed_text() const {
  if (modes_.empty()) return "none (install apertium and a pair package such as apertium-en-es)";
  std::string s;
  for (auto const& m : modes_) s += (s.empty() ? "" : ", ") + m;
  return s;
}

std::optional<std::string> apertium_document_format(std::string_view extension) {
  // xml is left out: Apertium's html deformatter would translate any element's text, including
  // identifiers and data that are not prose.
  if (extension == "txt") return "txt";
  if (extension == "html" || extension == "htm") return "html";
  return std::nullopt;
}

std::string apertium_document_formats_text() {
  return "txt, html, htm";
}

apertium_backend::outcome apertium_backend::translate(std::string const& mode,
                                                      std::string_view text,
                                                      std::string const& format,
                                                      bool keep_trailing) const {
  std::vector<std::string> argv{cfg_.command};
  if (!cfg_.data_dir.empty()) argv.insert(argv.end(), {"-d", cfg_.data_dir});
  argv.insert(argv.end(), {"-u", "-f", format, mode});  // -u: no '*' marks on unknown words
  auto r = run_child(argv, text, cfg_.timeout);
  outcome o;
  if (!r.started) {
    o.error = "Apertium could not be started (" + cfg_.command + ")";
  } else if (r.timed_out) {
    o.error = "Apertium timed out after " + std::to_string(cfg_.timeout.count()) + "ms";
  } else if (r.exit_code != 0) {
    auto e = r.err.substr(0, 200);
    while (!e.empty() && (e.back() == '\n' || e.back() == '\r')) e.pop_back();
    o.error =
        "Apertium failed (exit " + std::to_string(r.exit_code) + ")" + (e.empty() ? "" : ": " + e);
  } else {
    o.ok = true;
    o.text = std::move(r.out);
    while (!keep_trailing && !o.text.empty() && (o.text.back() == '\n' || o.text.back() == '\r'))
      o.text.pop_back();
  }
  return o;
}

}  // namespace bbgw::etranslation
