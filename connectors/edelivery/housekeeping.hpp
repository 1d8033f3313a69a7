#pragma once
// Housekeeping of the payload directory: what a crash can leave behind (temporary names that
// never became a stored message), files no stored message refers to (orphans), and when a
// stored message's payloads are old enough to be purged (retention of personal data).
//
// Layout of <payload_dir>: received messages in `<random>/<n>`, submitted messages in
// `out/<sha256(id)>/<n>` with the built message `as4-message` beside them. Every temporary name
// ends in `.partial` (a message directory being written, a message being built, a compressed
// payload staged for signing) or starts with `.scratch-` (scratch files on file systems without
// O_TMPFILE, unlinked at once): such a name never holds data anyone refers to.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"

namespace bbgw::edelivery {

inline constexpr std::string_view partial_suffix = ".partial";
// Store namespace: key = a message directory relative to payload_dir ("<random>",
// "out/<sha256>"), value = the MessageId whose record owns it. Written in the same transaction
// as the record, so a directory without an entry is an orphan.
inline constexpr std::string_view directory_namespace = "edelivery.dir";

// Makes the entries of `dir` (files created or renamed in it) durable: fsync of the directory.
result<void> sync_directory(std::string const& dir);

// fsync of a file written through a stream that cannot sync (its data and size).
result<void> sync_file(std::string const& file);

// True for the connector's temporary names (see above).
bool is_temporary_name(std::string_view file_name);

// Removes every temporary entry below `payload_dir` whose modification time is at or before
// `now - grace` (a younger one may belong to another instance sharing the directory, still
// writing); returns how many were removed (a directory counts once).
std::size_t remove_leftovers(std::string const& payload_dir, sys_time now,
                             std::chrono::milliseconds grace);

struct payload_listing {
  std::vector<std::string> message_dirs;  // relative: "<random>", "out/<sha256>"
  std::size_t loose_files = 0;            // regular files where only directories belong
};
// The message directories of `payload_dir` (temporary names left out).
payload_listing list_payload_dir(std::string const& payload_dir);

// When a stored message reached a final state: received (stored and receipted), delivered,
// failed, or sent without a receipt by agreement; nullopt while it is still on its way.
std::optional<sys_time> final_at(boost::json::object const& record);

}  // namespace bbgw::edelivery
