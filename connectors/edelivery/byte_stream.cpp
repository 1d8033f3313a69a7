#include "edelivery/byte_stream.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {

namespace {

constexpr std::size_t chunk_size = 256 * 1024;

class string_source final : public byte_source {
 public:
  explicit string_source(std::string data) : owned_(std::move(data)), view_(owned_) {}
  explicit string_source(std::string_view view) : view_(view) {}
  std::uint64_t size() const override { return view_.size(); }
  result<std::size_t> read_at(std::uint64_t offset, std::span<char> buffer) const override {
    if (offset >= view_.size()) return std::size_t{0};
    auto n = std::min<std::size_t>(buffer.size(), view_.size() - offset);
    std::memcpy(buffer.data(), view_.data() + offset, n);
    return n;
  }

 private:
  std::string owned_;
  std::string_view view_;
};

class file_source final : public byte_source {
 public:
  file_source(int fd, std::uint64_t size, bool anonymous = false)
      : fd_(fd), size_(size), anonymous_(anonymous) {}
  int fd() const { return fd_; }
  bool anonymous() const { return anonymous_; }  // O_TMPFILE: may be linked into a directory
  ~file_source() override { ::close(fd_); }
  std::uint64_t size() const override { return size_; }
  result<std::size_t> read_at(std::uint64_t offset, std::span<char> buffer) const override {
    std::size_t done = 0;
    while (done < buffer.size() && offset + done < size_) {
      auto n = ::pread(fd_, buffer.data() + done, buffer.size() - done,
                       static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errc::internal;
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

 private:
  int fd_;
  std::uint64_t size_;
  bool anonymous_;
};

class range_stream final : public xmlsec::part_reader {
 public:
  explicit range_stream(byte_range r) : range_(std::move(r)) {}
  result<std::size_t> read(std::span<char> out) override {
    std::size_t given = 0;
    while (given < out.size()) {
      if (pos_ == buffer_.size()) {
        if (consumed_ == range_.length) break;
        buffer_.resize(std::min<std::uint64_t>(chunk_size, range_.length - consumed_));
        auto n = range_.source->read_at(range_.offset + consumed_, buffer_);
        if (!n) return n.error();
        if (*n != buffer_.size()) return errc::internal;  // the source shrank
        consumed_ += *n;
        pos_ = 0;
      }
      auto n = std::min(out.size() - given, buffer_.size() - pos_);
      std::memcpy(out.data() + given, buffer_.data() + pos_, n);
      pos_ += n;
      given += n;
    }
    return given;
  }

 private:
  byte_range range_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0;
  std::uint64_t consumed_ = 0;
};

class string_sink final : public byte_sink {
 public:
  result<void> write(std::span<char const> bytes) override {
    data_.append(bytes.data(), bytes.size());
    return {};
  }
  result<source_ptr> finish() override { return memory_source(std::move(data_)); }
  std::string const& path() const override { return path_; }

 private:
  std::string data_;
  std::string path_;
};

result<void> write_fully(int fd, char const* data, std::size_t n) {
  while (n > 0) {
    auto w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return errc::delivery_failed;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

class file_sink final : public byte_sink {
 public:
  file_sink(int fd, std::string path, bool durable, bool anonymous = false)
      : fd_(fd), path_(std::move(path)), durable_(durable), anonymous_(anonymous) {
    buffer_.reserve(chunk_size);
  }
  ~file_sink() override {
    if (fd_ >= 0) ::close(fd_);
  }
  result<void> write(std::span<char const> bytes) override {
    if (buffer_.size() + bytes.size() > chunk_size) {
      if (auto r = flush(); !r) return r;
      if (bytes.size() >= chunk_size) {
        size_ += bytes.size();
        return write_fully(fd_, bytes.data(), bytes.size());
      }
    }
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    size_ += bytes.size();
    return {};
  }
  result<source_ptr> finish() override {
    if (auto r = flush(); !r) return r.error();
    if (durable_ && ::fsync(fd_) != 0) return errc::delivery_failed;
    int fd = fd_;
    fd_ = -1;
    return source_ptr(std::make_shared<file_source>(fd, size_, anonymous_));
  }
  std::string const& path() const override { return path_; }

 private:
  result<void> flush() {
    if (buffer_.empty()) return {};
    auto r = write_fully(fd_, buffer_.data(), buffer_.size());
    buffer_.clear();
    return r;
  }
  int fd_;
  std::string path_;
  bool durable_;
  bool anonymous_;
  std::vector<char> buffer_;
  std::uint64_t size_ = 0;
};

class memory_factory final : public sink_factory {
 public:
  result<std::unique_ptr<byte_sink>> scratch() override { return make(); }
  result<std::unique_ptr<byte_sink>> payload(std::string const&) override { return make(); }
  result<std::string> adopt(source_ptr const&, std::string const&) override {
    return errc::internal;  // nothing to link: the caller copies
  }

 private:
  static result<std::unique_ptr<byte_sink>> make() {
    return std::unique_ptr<byte_sink>(new string_sink());
  }
};

class directory_factory final : public sink_factory {
 public:
  explicit directory_factory(std::string dir) : dir_(std::move(dir)) {}
  result<std::unique_ptr<byte_sink>> scratch() override {
    int fd = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    bool const anonymous = fd >= 0;
    if (fd < 0) {
      // File systems without O_TMPFILE: a named file, unlinked at once.
      std::string name = dir_ + "/.scratch-" + std::to_string(++seq_) + "-XXXXXX";
      fd = ::mkostemp(name.data(), O_CLOEXEC);
      if (fd < 0) return errc::delivery_failed;
      ::unlink(name.c_str());
    }
    return std::unique_ptr<byte_sink>(new file_sink(fd, std::string(), false, anonymous));
  }
  result<std::string> adopt(source_ptr const& scratch, std::string const& name) override {
    auto const* f = dynamic_cast<file_source const*>(scratch.get());
    if (!f || !f->anonymous()) return errc::internal;
    auto path = dir_ + "/" + name;
    auto proc = "/proc/self/fd/" + std::to_string(f->fd());
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) != 0)
      return errc::internal;
    if (::fsync(f->fd()) != 0) {
      ::unlink(path.c_str());
      return errc::delivery_failed;
    }
    return path;
  }
  result<std::unique_ptr<byte_sink>> payload(std::string const& name) override {
    auto path = dir_ + "/" + name;
    int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return errc::delivery_failed;
    return std::unique_ptr<byte_sink>(new file_sink(fd, path, true));
  }

 private:
  std::string dir_;
  unsigned seq_ = 0;
};

}  // namespace

source_ptr memory_source(std::string data) {
  return std::make_shared<string_source>(std::move(data));
}

source_ptr memory_view_source(std::string_view data) {
  return std::make_shared<string_source>(data);
}

result<source_ptr> open_file_source(std::string const& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errc::internal;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return errc::internal;
  }
  return source_ptr(std::make_shared<file_source>(fd, static_cast<std::uint64_t>(st.st_size)));
}

result<std::string> read_all(byte_range const& r, std::size_t limit, error_code too_big) {
  if (r.length > limit) return too_big;
  std::string out(static_cast<std::size_t>(r.length), '\0');
  auto n = r.source->read_at(r.offset, out);
  if (!n) return n.error();
  if (*n != out.size()) return errc::internal;
  return out;
}

result<void> for_each_chunk(byte_range const& r,
                            std::function<result<void>(std::span<char const>)> const& fn) {
  std::vector<char> buffer(
      std::min<std::uint64_t>(chunk_size, std::max<std::uint64_t>(r.length, 1)));
  std::uint64_t done = 0;
  while (done < r.length) {
    auto want = std::min<std::uint64_t>(buffer.size(), r.length - done);
    auto n = r.source->read_at(r.offset + done, std::span<char>(buffer.data(), want));
    if (!n) return n.error();
    if (*n != want) return errc::internal;
    if (auto ok = fn(std::span<char const>(buffer.data(), want)); !ok) return ok;
    done += want;
  }
  return {};
}

std::unique_ptr<xmlsec::part_reader> range_reader(byte_range r) {
  return std::make_unique<range_stream>(std::move(r));
}

std::unique_ptr<sink_factory> memory_sinks() {
  return std::make_unique<memory_factory>();
}

std::unique_ptr<sink_factory> directory_sinks(std::string dir) {
  return std::make_unique<directory_factory>(std::move(dir));
}

sha256_stream::sha256_stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

sha256_stream::~sha256_stream() {
  EVP_MD_CTX_free(ctx_);
}

void sha256_stream::update(std::span<char const> bytes) {
  EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
}

std::string sha256_stream::hex_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_, md, &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

}  // namespace bbgw::edelivery
