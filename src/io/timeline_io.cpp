#include "io/timeline_io.h"

#include <cmath>

#include "core/errors.h"

namespace ppb {

namespace {

OpKind kind_from_letter(const std::string& s, const std::string& source) {
  if (s == "F") return OpKind::F;
  if (s == "B") return OpKind::B;
  if (s == "W") return OpKind::W;
  if (s == "O") return OpKind::Optimizer;
  PPB_THROW(InputError, source, ": unknown op kind '", s, "'");
}

template <typename T>
T field(const nlohmann::json& obj, const char* key, const std::string& source) {
  PPB_REQUIRE_INPUT(obj.is_object() && obj.contains(key), source, ": missing \"", key, "\"");
  try {
    return obj.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    PPB_THROW(InputError, source, ": \"", key, "\" has the wrong type");
  }
}

// The op fields ("kind", "stage", "microbatch") shared by op and transfer records.
Op op_from_json(const nlohmann::json& j, const std::string& source) {
  Op op;
  op.kind = kind_from_letter(field<std::string>(j, "kind", source), source);
  op.stage = field<int>(j, "stage", source);
  op.microbatch = field<int>(j, "microbatch", source);
  return op;
}

}  // namespace

nlohmann::json timeline_body_to_json(const Timeline& t) {
  nlohmann::json ranks = nlohmann::json::array();
  for (std::size_t r = 0; r < t.ranks.size(); ++r) {
    nlohmann::json ops = nlohmann::json::array();
    for (const OpRecord& rec : t.ranks[r]) {
      ops.push_back({{"kind", std::string(1, kind_letter(rec.op.kind))},
                     {"stage", rec.op.stage},
                     {"microbatch", rec.op.microbatch},
                     {"start", rec.start_us},
                     {"end", rec.end_us}});
    }
    ranks.push_back({{"rank", r}, {"ops", std::move(ops)}});
  }
  nlohmann::json transfers = nlohmann::json::array();
  for (const TransferRecord& x : t.transfers) {
    nlohmann::json j{{"kind", std::string(1, kind_letter(x.producer.kind))},
                     {"stage", x.producer.stage},
                     {"microbatch", x.producer.microbatch},
                     {"src_rank", x.src_rank},
                     {"dst_rank", x.dst_rank},
                     {"send", x.send_us},
                     {"arrive", x.arrive_us},
                     {"bytes", x.bytes}};
    if (!std::isnan(x.wait_start_us)) j["wait_start"] = x.wait_start_us;
    transfers.push_back(std::move(j));
  }
  return nlohmann::json{{"schedule", t.schedule},
                        {"generator", t.generator.empty() ? nlohmann::json() : nlohmann::json(t.generator)},
                        {"source", t.source},
                        {"time_unit", "us"},
                        {"num_ranks", t.num_ranks},
                        {"num_stages", t.num_stages()},
                        {"num_microbatches", t.num_microbatches},
                        {"chunks", t.chunks},
                        {"split_backward", t.split_backward},
                        {"stage_rank", t.stage_rank},
                        {"ranks", std::move(ranks)},
                        {"transfers", std::move(transfers)}};
}

nlohmann::json timeline_to_json(const Timeline& t, const nlohmann::json& context) {
  nlohmann::json doc{{"schema", "ppbench.timeline/1"}};
  doc.update(timeline_body_to_json(t));
  doc["context"] = context;
  return doc;
}

Timeline timeline_from_json(const nlohmann::json& doc, const std::string& source) {
  PPB_REQUIRE_INPUT(doc.is_object(), source, ": expected a JSON object");
  if (doc.contains("schema")) {
    PPB_REQUIRE_INPUT(doc["schema"] == "ppbench.timeline/1", source, ": \"schema\" is ", doc["schema"].dump(),
                      ", expected \"ppbench.timeline/1\"");
  }
  Timeline t;
  t.schedule = field<std::string>(doc, "schedule", source);
  // Absent (older files) or null: not known to be generated, so no analytic bubble.
  if (doc.contains("generator") && !doc["generator"].is_null()) t.generator = field<std::string>(doc, "generator", source);
  t.source = doc.value("source", "");
  t.num_ranks = field<int>(doc, "num_ranks", source);
  t.num_microbatches = field<int>(doc, "num_microbatches", source);
  t.chunks = field<int>(doc, "chunks", source);
  t.split_backward = field<bool>(doc, "split_backward", source);
  t.stage_rank = field<std::vector<int>>(doc, "stage_rank", source);
  const auto& ranks = doc.at("ranks");
  PPB_REQUIRE_INPUT(ranks.is_array() && static_cast<int>(ranks.size()) == t.num_ranks, source,
                    ": \"ranks\" must hold one entry per rank");
  for (const auto& rank : ranks) {
    std::vector<OpRecord> ops;
    for (const auto& j : field<nlohmann::json>(rank, "ops", source)) {
      OpRecord rec;
      rec.op = op_from_json(j, source);
      rec.start_us = field<double>(j, "start", source);
      rec.end_us = field<double>(j, "end", source);
      ops.push_back(rec);
    }
    t.ranks.push_back(std::move(ops));
  }
  if (doc.contains("transfers")) {
    for (const auto& j : doc["transfers"]) {
      TransferRecord x;
      x.producer = op_from_json(j, source);
      x.src_rank = field<int>(j, "src_rank", source);
      x.dst_rank = field<int>(j, "dst_rank", source);
      x.send_us = field<double>(j, "send", source);
      x.arrive_us = field<double>(j, "arrive", source);
      x.bytes = j.value("bytes", std::uint64_t{0});
      if (j.contains("wait_start")) x.wait_start_us = field<double>(j, "wait_start", source);
      t.transfers.push_back(x);
    }
  }
  return t;
}

nlohmann::json metrics_to_json(const Metrics& m, const Timeline& t, const nlohmann::json& context) {
  nlohmann::json ranks = nlohmann::json::array();
  for (const RankMetrics& r : m.ranks) {
    ranks.push_back({{"rank", r.rank},
                     {"busy", r.busy_us},
                     {"idle", r.idle_us},
                     {"bubble_fraction", r.bubble_fraction},
                     {"peak_activations", r.peak_activations}});
  }
  std::uint64_t activation_bytes = t.transfers.empty() ? 0 : t.transfers.front().bytes;
  if (activation_bytes > 0) {
    for (auto& r : ranks) r["peak_activation_bytes"] = r["peak_activations"].get<std::uint64_t>() * activation_bytes;
  }
  return nlohmann::json{{"schema", "ppbench.metrics/1"},
                        {"schedule", t.schedule},
                        {"num_stages", t.num_ranks},
                        {"num_microbatches", t.num_microbatches},
                        {"chunks", t.chunks},
                        {"time_unit", "us"},
                        {"makespan", m.makespan_us},
                        {"bubble_fraction", m.bubble_fraction},
                        {"analytic_bubble", m.analytic_bubble ? nlohmann::json(*m.analytic_bubble) : nlohmann::json()},
                        {"ranks", std::move(ranks)},
                        {"context", context}};
}

}  // namespace ppb
