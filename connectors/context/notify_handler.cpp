#include "context/notify_handler.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "context/entity_event.hpp"
#include "context/normalise.hpp"
#include "context/sha256.hpp"

namespace bbgw::context {

namespace json = boost::json;

notify_handler::notify_handler(context_config const& cfg, store& db, clock const& time,
                               metrics& stats, logger& log)
    : cfg_(cfg), db_(db), time_(time), log_(log) {
  for (auto const& b : cfg_.brokers) {
    for (auto const& s : b.subscriptions) {
      metric_labels l{{"broker", b.name}, {"subscription", s.name}};
      auto with = [&](std::string outcome) {
        auto x = l;
        x.emplace_back("outcome", std::move(outcome));
        return x;
      };
      sub_metrics m{
          &stats.make_counter("bbgw_context_notifications_total",
                              "Notifications answered with success, by outcome", with("accepted")),
          &stats.make_counter("bbgw_context_notifications_total",
                              "Notifications answered with success, by outcome", with("duplicate")),
          &stats.make_counter("bbgw_context_entities_total", "Entity updates emitted as events",
                              l)};
      subs_.emplace(std::pair{b.name, s.name}, std::pair{std::pair{&b, &s}, m});
    }
  }
  for (auto e : {errc::unknown_subscription, errc::unauthorized, errc::unsupported_media_type,
                 errc::body_too_large, errc::too_many_entities, errc::malformed_json,
                 errc::invalid_notification, errc::invalid_entity, errc::store_failure})
    rejected_[e] = &stats.make_counter("bbgw_context_notifications_rejected_total",
                                       "Notifications refused, by reason",
                                       {{"reason", std::string(metric_reason(e))}});
}

response notify_handler::ngsi_error_response(errc e, std::string const& description) {
  return response::json(http_status(e),
                        json::object{{"error", ngsi_error(e)}, {"description", description}});
}

response notify_handler::reject(errc e, std::string const& description, request const& r,
                                broker_config const* b, subscription_config const* s) {
  rejected_.at(e)->inc();
  // Never the body or the token: only where it came from and why.
  log_.warn("context notification refused", {{"reason", std::string(metric_reason(e))},
                                             {"broker", b ? b->name : std::string{}},
                                             {"subscription", s ? s->name : std::string{}},
                                             {"request_id", r.request_id},
                                             {"remote", r.remote_address}});
  auto resp = ngsi_error_response(e, description);
  if (e == errc::unauthorized)
    resp.headers.set("WWW-Authenticate", "Bearer realm=\"bbgw-context\"");
  return resp;
}

std::variant<response, std::shared_ptr<notify_handler::prepared>> notify_handler::prepare(
    request const& r) {
  auto broker = r.param("broker");
  auto subscription = r.param("subscription");
  auto it = (broker && subscription)
                ? subs_.find(std::pair{std::string(*broker), std::string(*subscription)})
                : subs_.end();
  if (it == subs_.end())
    return reject(errc::unknown_subscription, "no such broker/subscription", r);
  auto const& b = *it->second.first.first;
  auto const& s = *it->second.first.second;
  auto const& m = it->second.second;

  // The token: a header, or ?token= in the notification URL (what brokers can be told to call).
  std::optional<std::string> token;
  if (auto h = r.header(token_header)) {
    token = std::string(*h);
  } else if (!r.query.empty()) {
    std::string const text = "?" + r.query;  // the view below points into it
    auto ref = boost::urls::parse_relative_ref(text);
    if (ref) {
      for (auto const& p : ref->params())  // percent-decoded
        if (p.key == "token" && p.has_value) {
          token = p.value;
          break;
        }
    }
  }
  if (!token || !constant_time_equals(*token, s.secret))
    return reject(errc::unauthorized, token ? "wrong notify token" : "missing notify token", r, &b,
                  &s);

  if (r.body.size() > cfg_.body_limit)
    return reject(errc::body_too_large,
                  "the body exceeds " + std::to_string(cfg_.body_limit) + " bytes", r, &b, &s);

  std::string why;
  auto note = normalise(
      {b, s, r.headers, r.body, static_cast<std::size_t>(cfg_.max_entities_per_notification)}, why);
  if (!note) return reject(static_cast<errc>(note.error().value()), why, r, &b, &s);

  auto const now = time_.now();
  std::vector<cloud_event> events;
  events.reserve(note->entities.size());
  for (auto& u : note->entities)
    events.push_back(make_entity_event(std::move(u), cfg_.family_template, b.name, s.name,
                                       note->tenant, r.request_id, now));

  auto p = std::make_shared<prepared>();
  p->broker = &b;
  p->sub = &s;
  p->m = &m;
  p->events = std::move(events);
  p->dedupe_key = std::move(note->dedupe_key);
  p->expires = now + std::chrono::duration_cast<sys_time::duration>(cfg_.dedupe_window);
  return p;
}

result<void> notify_handler::store_work(prepared& p, unit_of_work& uow) {
  p.duplicate = false;
  auto fresh =
      uow.insert(dedupe_namespace, p.dedupe_key, p.broker->name + "/" + p.sub->name, p.expires);
  if (!fresh) return fresh.error();
  if (!*fresh) {
    p.duplicate = true;  // already durable from an earlier delivery: emit nothing
    return {};
  }
  for (auto const& ev : p.events)
    if (auto e = uow.emit(ev); !e) return e.error();
  return {};
}

response notify_handler::finish(prepared const& p, result<void> const& done, request const& r) {
  auto const& b = *p.broker;
  auto const& s = *p.sub;
  auto const& m = *p.m;
  if (!done) {
    log_.error("context notification not stored",
               {{"broker", b.name}, {"subscription", s.name}, {"error", done.error().message()}});
    return reject(errc::store_failure, "the notification could not be stored; retry", r, &b, &s);
  }
  response resp;
  resp.status = 204;
  if (p.duplicate) {
    m.duplicate->inc();
    resp.headers.set("X-Bbgw-Context-Duplicate", "true");
    resp.headers.set("X-Bbgw-Context-Events", "0");
  } else {
    m.accepted->inc();
    m.entities->inc(static_cast<double>(p.events.size()));
    resp.headers.set("X-Bbgw-Context-Events", std::to_string(p.events.size()));
  }
  return resp;
}

response notify_handler::handle(request const& r) {
  auto v = prepare(r);
  if (auto* rejected = std::get_if<response>(&v)) return std::move(*rejected);
  auto& p = *std::get<std::shared_ptr<prepared>>(v);
  auto done = db_.transact([&](unit_of_work& uow) { return store_work(p, uow); });
  return finish(p, done, r);
}

void notify_handler::handle_async(request const& r, responder respond) {
  auto v = prepare(r);
  if (auto* rejected = std::get_if<response>(&v)) {
    respond(std::move(*rejected));
    return;
  }
  auto p = std::get<std::shared_ptr<prepared>>(std::move(v));
  db_.transact_async([p](unit_of_work& uow) { return store_work(*p, uow); },
                     [this, p, &r, respond = std::move(respond)](result<void> done) {
                       respond(finish(*p, done, r));
                     });
}

route notify_handler::make_route() {
  route rt;
  rt.methods = {"POST"};
  rt.pattern = cfg_.notify_path_prefix + "/{broker}/{subscription}";
  rt.handle_async = [this](request const& r, responder respond) {
    handle_async(r, std::move(respond));
  };
  rt.body_limit = static_cast<std::size_t>(cfg_.body_limit * 2);
  return rt;
}

}  // namespace bbgw::context
