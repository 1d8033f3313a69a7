#include "edelivery/config.hpp"

#include <filesystem>

namespace bbgw::edelivery {

namespace {

pmode_party read_party(config_reader r) {
  pmode_party p;
  p.party_id = r.string("party_id", "");
  if (p.party_id.empty()) r.fail("party_id", "is required");
  p.party_type = r.string("party_type", "");
  p.role = r.string("role", "");
  if (p.role.empty()) r.fail("role", "is required");
  r.finish();
  return p;
}

xmlsec::key read_key(config_reader r) {
  auto pkcs12 = r.string("pkcs12", "");
  auto password = r.secret("password", "");
  auto private_key = r.string("private_key", "");
  auto certificate = r.string("certificate", "");
  r.finish();
  if (!pkcs12.empty()) {
    auto k = xmlsec::key::from_pkcs12_file(pkcs12, password);
    if (!k) r.fail("pkcs12", "cannot be read: " + k.error().message());
    if (!k->certificate()) r.fail("pkcs12", "holds no certificate");
    return *k;
  }
  if (private_key.empty() || certificate.empty())
    r.fail("pkcs12", "set pkcs12 (+ password) or private_key and certificate");
  auto k = xmlsec::key::from_pem_pair(private_key, certificate);
  if (!k) r.fail("private_key", "cannot be read: " + k.error().message());
  return *k;
}

pmode read_pmode(config_reader r) {
  pmode p;
  p.id = r.string("id", "");
  if (p.id.empty()) r.fail("id", "is required");
  p.agreement = r.string("agreement", "");
  p.service = r.string("service", "");
  if (p.service.empty()) r.fail("service", "is required");
  p.service_type = r.string("service_type", "");
  p.action = r.string("action", "");
  if (p.action.empty()) r.fail("action", "is required");
  p.initiator = read_party(r.child("initiator"));
  p.responder = read_party(r.child("responder"));
  p.endpoint = r.string("endpoint", "");
  if (!p.endpoint.empty() && p.endpoint.rfind("http://", 0) != 0 &&
      p.endpoint.rfind("https://", 0) != 0)
    r.fail("endpoint", "must be an http(s):// URL");
  if (r.has("tls")) {
    auto t = r.child("tls");
    client_tls tls;
    tls.ca_file = t.string("ca_file", "");
    tls.certificate_file = t.string("certificate", "");
    tls.private_key_file = t.string("private_key", "");
    if (tls.certificate_file.empty() != tls.private_key_file.empty())
      t.fail("certificate", "certificate and private_key go together (mTLS)");
    for (auto const* f : {&tls.ca_file, &tls.certificate_file, &tls.private_key_file})
      if (!f->empty() && !std::filesystem::exists(*f)) t.fail("ca_file", "no such file: " + *f);
    t.finish();
    p.tls = tls;
  }
  for (auto const& f : r.strings("tls_client_certificates", {})) {
    auto k = xmlsec::key::from_pem_file(f);
    if (!k || !k->certificate()) r.fail("tls_client_certificates", "not a PEM certificate: " + f);
    p.tls_client_certificates.push_back(k->certificate_der());
  }
  p.mep = r.choice("mep", "one-way", {"one-way"});
  p.binding = r.choice("binding", "push", {"push"});
  {
    auto s = r.child("security");
    p.sign = s.boolean("sign", true);
    p.encrypt = s.boolean("encrypt", false);
    p.legacy_algorithms = s.boolean("legacy_algorithms", false);
    auto certs = s.strings("partner_certificates", {});
    if (certs.empty()) s.fail("partner_certificates", "at least one PEM certificate file");
    for (auto const& f : certs) {
      auto k = xmlsec::key::from_pem_file(f);
      if (!k || !k->certificate()) s.fail("partner_certificates", "not a PEM certificate: " + f);
      p.partner_certificates.push_back(*k);
    }
    s.finish();
  }
  {
    auto rel = r.child("reliability");
    p.duplicate_window = rel.duration("duplicate_window", p.duplicate_window);
    p.max_attempts = static_cast<int>(rel.integer("max_attempts", p.max_attempts, 1, 100));
    p.retry_interval = rel.duration("retry_interval", p.retry_interval);
    p.retry_max = rel.duration("retry_max", p.retry_max);
    rel.finish();
  }
  {
    auto rep = r.child("reporting");
    p.receipt = rep.boolean("receipt", true);
    p.report_errors = rep.boolean("errors", true);
    rep.finish();
  }
  p.compression = r.choice("compression", p.compression, {"auto", "gzip", "none"});
  p.compression_level = static_cast<int>(r.integer("compression_level", p.compression_level, 1, 9));
  r.finish();
  return p;
}

}  // namespace

std::optional<edelivery_config> read_config(config_reader& r) {
  static constexpr char const* keys[] = {"path",
                                         "body_limit",
                                         "key",
                                         "party_domain",
                                         "payload_dir",
                                         "xsd_dir",
                                         "max_parts",
                                         "max_header_bytes",
                                         "max_xml_bytes",
                                         "max_decompressed_size",
                                         "max_compression_ratio",
                                         "timestamp_skew",
                                         "max_submit_size",
                                         "sending_threads",
                                         "retention",
                                         "pmodes"};
  if (!r.boolean("enabled", false)) {
    for (auto k : keys) (void)r.raw(k);
    return std::nullopt;
  }
  edelivery_config c;
  c.path = r.path_prefix("path", c.path);
  c.body_limit = r.size("body_limit", c.body_limit);
  c.mime.max_total_bytes = c.body_limit;
  c.own_key = read_key(r.child("key"));
  c.party_domain = r.string("party_domain", c.party_domain);
  c.payload_dir = r.string("payload_dir", c.payload_dir);
  c.xsd_dir = r.string("xsd_dir", "");
  if (!c.xsd_dir.empty() && !std::filesystem::is_directory(c.xsd_dir))
    r.fail("xsd_dir", "is not a directory");
  c.mime.max_parts = static_cast<std::size_t>(r.integer("max_parts", 32, 2, 1000));
  c.mime.max_header_bytes =
      static_cast<std::size_t>(r.size("max_header_bytes", c.mime.max_header_bytes));
  c.max_xml_bytes = r.size("max_xml_bytes", c.max_xml_bytes);
  c.max_submit_bytes = r.size("max_submit_size", c.max_submit_bytes);
  c.sending_threads = static_cast<unsigned>(r.integer("sending_threads", c.sending_threads, 1, 64));
  c.timestamp_skew = std::chrono::duration_cast<std::chrono::seconds>(
      r.duration("timestamp_skew", c.timestamp_skew));
  c.gunzip.max_output_bytes = r.size("max_decompressed_size", c.gunzip.max_output_bytes);
  c.gunzip.max_ratio = static_cast<std::size_t>(r.integer("max_compression_ratio", 200, 1, 100000));
  {
    auto rt = r.child("retention");
    c.retention.payloads = rt.duration("payloads", c.retention.payloads);
    c.retention.sweep_interval =
        rt.duration("sweep_interval", c.retention.sweep_interval, std::chrono::seconds(1));
    c.retention.leftover_grace = rt.duration("leftover_grace", c.retention.leftover_grace);
    rt.finish();
  }
  for (auto& pr : r.list("pmodes")) c.pmodes.push_back(read_pmode(std::move(pr)));
  if (c.pmodes.empty()) r.fail("pmodes", "at least one PMode is required");
  return c;
}

}  // namespace bbgw::edelivery
