#include "render/chrome_trace.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.h"

namespace ppb {
namespace {

using nlohmann::json;

// Thread ids inside a rank's process: each timeline gets a block of them, the
// compute stream first, then its transfer lanes. They start at 1: tid 0 (with
// pid 0) is the idle "swapper" thread to Perfetto's Linux-minded importer. A
// timeline that needs more lanes than its block (transfers that all overlap,
// as with slow links and many microbatches) pushes the next block further up,
// so that a trace can always be written.
constexpr int kThreadsPerSource = 100;

json metadata(const char* name, int pid, int tid, json args) {
  return json{{"ph", "M"}, {"name", name}, {"pid", pid}, {"tid", tid}, {"args", std::move(args)}};
}

// The op that consumes a transfer's data: the next stage's F for an
// activation, the previous stage's B for a gradient.
Op consumer_of(const Op& producer) {
  if (producer.kind == OpKind::F) return Op{OpKind::F, producer.stage + 1, producer.microbatch};
  return Op{OpKind::B, producer.stage - 1, producer.microbatch};
}

class TraceBuilder {
 public:
  void add(const Timeline& t, int source_index, const std::string& suffix) {
    const int tid_base = std::max(1 + source_index * kThreadsPerSource, next_tid_);
    next_tid_ = std::max(next_tid_, tid_base + 1);
    for (int r = 0; r < t.num_ranks; ++r) {
      add_process(t, r);
      events_.push_back(metadata("thread_name", r, tid_base, {{"name", "compute" + suffix}}));
      events_.push_back(metadata("thread_sort_index", r, tid_base, {{"sort_index", tid_base}}));
      for (const OpRecord& rec : t.ranks[static_cast<std::size_t>(r)]) add_op(t, r, tid_base, rec);
    }
    add_transfers(t, tid_base, suffix);
  }

  json finish(const json& context) {
    json doc{{"schema", "ppbench.trace/1"}, {"displayTimeUnit", "ms"}, {"traceEvents", std::move(events_)}};
    if (!context.is_null()) doc["context"] = context;
    return doc;
  }

 private:
  void add_process(const Timeline& t, int rank) {
    if (static_cast<int>(named_.size()) <= rank) named_.resize(static_cast<std::size_t>(rank) + 1, false);
    if (named_[static_cast<std::size_t>(rank)]) return;
    named_[static_cast<std::size_t>(rank)] = true;
    std::string stages;
    for (int s = 0; s < t.num_stages(); ++s) {
      if (t.stage_rank[static_cast<std::size_t>(s)] == rank) stages += (stages.empty() ? "" : ",") + std::to_string(s);
    }
    events_.push_back(metadata("process_name", rank, 0, {{"name", "GPU " + std::to_string(rank)}}));
    events_.push_back(metadata("process_labels", rank, 0, {{"labels", "stages " + stages}}));
    events_.push_back(metadata("process_sort_index", rank, 0, {{"sort_index", rank}}));
  }

  void add_op(const Timeline& t, int rank, int tid, const OpRecord& rec) {
    const Op& op = rec.op;
    const bool optimizer = op.kind == OpKind::Optimizer;
    json args{{"kind", kind_name(op.kind)}, {"source", t.source}};
    if (!optimizer) {
      args["stage"] = op.stage;
      args["chunk"] = t.num_ranks > 0 ? op.stage / t.num_ranks : 0;
      args["microbatch"] = op.microbatch;
    }
    events_.push_back(json{{"ph", "X"},
                           {"name", optimizer ? std::string("optimizer") : describe(op)},
                           {"cat", kind_name(op.kind)},
                           {"pid", rank},
                           {"tid", tid},
                           {"ts", rec.start_us},
                           {"dur", rec.end_us - rec.start_us},
                           {"args", std::move(args)}});
  }

  // Greedy interval colouring per rank: a transfer takes the first lane that is
  // free at its start, so slices on one thread never overlap (Perfetto drops
  // slices that overlap without nesting).
  int lane_for(std::vector<double>& lane_free, double start, double end) {
    for (std::size_t i = 0; i < lane_free.size(); ++i) {
      if (lane_free[i] <= start) {
        lane_free[i] = end;
        return static_cast<int>(i);
      }
    }
    lane_free.push_back(end);
    return static_cast<int>(lane_free.size()) - 1;
  }

  // Per cross-rank transfer: a "send" slice on the source rank spanning the
  // time in flight, a zero-length "recv" slice on the destination rank when the
  // data lands and, for measured timelines where the consumer waited, a "wait"
  // slice before it. The flow arrow uses the v2 binding (bind_id with
  // flow_out/flow_in on the slices themselves): Perfetto and chrome://tracing
  // draw it from the end of the send to the receive, with no dependence on
  // event order or on slices being longer than zero.
  void add_transfers(const Timeline& t, int tid_base, const std::string& suffix) {
    struct Slice {
      int rank;
      double start, end;
      std::size_t transfer;
      bool send;
    };
    std::vector<Slice> slices;
    for (std::size_t i = 0; i < t.transfers.size(); ++i) {
      const TransferRecord& x = t.transfers[i];
      slices.push_back({x.src_rank, x.send_us, x.arrive_us, i, true});
      slices.push_back({x.dst_rank, wait_begin(x), x.arrive_us, i, false});
    }
    std::stable_sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) {
      return a.rank != b.rank ? a.rank < b.rank : a.start < b.start;
    });
    std::vector<std::vector<double>> lanes(static_cast<std::size_t>(t.num_ranks));
    std::vector<std::vector<bool>> lane_named(static_cast<std::size_t>(t.num_ranks));
    for (const Slice& s : slices) {
      const int lane = lane_for(lanes[static_cast<std::size_t>(s.rank)], s.start, s.end);
      const int tid = tid_base + 1 + lane;
      next_tid_ = std::max(next_tid_, tid + 1);
      auto& named = lane_named[static_cast<std::size_t>(s.rank)];
      if (static_cast<int>(named.size()) <= lane) {
        named.resize(static_cast<std::size_t>(lane) + 1, false);
        const std::string name = "transfers" + (lane > 0 ? " #" + std::to_string(lane + 1) : std::string()) + suffix;
        events_.push_back(metadata("thread_name", s.rank, tid, {{"name", name}}));
        events_.push_back(metadata("thread_sort_index", s.rank, tid, {{"sort_index", tid}}));
      }
      const TransferRecord& x = t.transfers[s.transfer];
      const Op consumer = consumer_of(x.producer);
      json args{{"producer", describe(x.producer)}, {"consumer", describe(consumer)}, {"src_rank", x.src_rank},
                {"dst_rank", x.dst_rank},          {"bytes", x.bytes},                 {"source", t.source},
                {"stage", x.producer.stage},        {"microbatch", x.producer.microbatch},
                {"kind", x.producer.kind == OpKind::F ? "activation" : "gradient"}};
      const std::uint64_t flow = flow_base_ + s.transfer;
      if (s.send) {
        events_.push_back(json{{"ph", "X"}, {"name", "send " + describe(x.producer) + " -> GPU " + std::to_string(x.dst_rank)},
                               {"cat", "transfer"}, {"pid", s.rank}, {"tid", tid}, {"ts", s.start},
                               {"dur", s.end - s.start}, {"bind_id", flow}, {"flow_out", true}, {"args", args}});
        continue;
      }
      if (s.start < s.end) {
        events_.push_back(json{{"ph", "X"}, {"name", "wait " + describe(x.producer) + " <- GPU " + std::to_string(x.src_rank)},
                               {"cat", "transfer"}, {"pid", s.rank}, {"tid", tid}, {"ts", s.start},
                               {"dur", s.end - s.start}, {"args", args}});
      }
      events_.push_back(json{{"ph", "X"}, {"name", "recv " + describe(x.producer) + " <- GPU " + std::to_string(x.src_rank)},
                             {"cat", "transfer"}, {"pid", s.rank}, {"tid", tid}, {"ts", x.arrive_us},
                             {"dur", 0.0}, {"bind_id", flow}, {"flow_in", true}, {"args", std::move(args)}});
    }
    flow_base_ += t.transfers.size();
  }

  // When the consumer began waiting (measured, clamped into the transfer), or
  // the arrival when nobody waited or for predictions.
  static double wait_begin(const TransferRecord& x) {
    if (std::isnan(x.wait_start_us)) return x.arrive_us;
    return std::clamp(x.wait_start_us, x.send_us, x.arrive_us);
  }

  json events_ = json::array();
  std::vector<bool> named_;
  std::uint64_t flow_base_ = 1;  // flow ids are unique over the whole trace
  int next_tid_ = 1;             // above every thread id used so far
};

}  // namespace

json chrome_trace(const Timeline* measured, const Timeline* predicted, const json& context) {
  PPB_ASSERT(measured != nullptr || predicted != nullptr, "chrome_trace needs a timeline");
  TraceBuilder builder;
  const bool both = measured != nullptr && predicted != nullptr;
  if (measured != nullptr) builder.add(*measured, 0, both ? " (measured)" : "");
  if (predicted != nullptr) builder.add(*predicted, measured != nullptr ? 1 : 0, both ? " (predicted)" : "");
  return builder.finish(context);
}

}  // namespace ppb
