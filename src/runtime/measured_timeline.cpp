#include "runtime/measured_timeline.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "core/errors.h"

namespace ppb {

namespace {

void put_op(std::vector<double>& out, const Op& op) {
  out.push_back(static_cast<double>(op.kind));
  out.push_back(op.stage);
  out.push_back(op.microbatch);
}

void put_transfer(std::vector<double>& out, const TransferRecord& x) {
  put_op(out, x.producer);
  out.insert(out.end(), {double(x.src_rank), double(x.dst_rank), x.send_us, x.arrive_us, double(x.bytes),
                         x.wait_start_us});
}

class Reader {
 public:
  explicit Reader(const std::vector<double>& data) : data_(data) {}
  double next() {
    PPB_ASSERT(pos_ < data_.size(), "truncated rank record");
    return data_[pos_++];
  }
  Op op() {
    Op op;
    op.kind = static_cast<OpKind>(static_cast<int>(next()));
    op.stage = static_cast<int>(next());
    op.microbatch = static_cast<int>(next());
    return op;
  }
  TransferRecord transfer() {
    TransferRecord x;
    x.producer = op();
    x.src_rank = static_cast<int>(next());
    x.dst_rank = static_cast<int>(next());
    x.send_us = next();
    x.arrive_us = next();
    x.bytes = static_cast<std::uint64_t>(next());
    x.wait_start_us = next();
    return x;
  }

 private:
  const std::vector<double>& data_;
  std::size_t pos_ = 0;
};

std::tuple<int, int, int, int> transfer_key(const TransferRecord& x) {
  return {int(x.producer.kind), x.producer.stage, x.producer.microbatch, x.dst_rank};
}

}  // namespace

std::vector<double> encode_record(const RankIterationRecord& r) {
  std::vector<double> out;
  out.push_back(static_cast<double>(r.ops.size()));
  for (const OpRecord& op : r.ops) {
    put_op(out, op.op);
    out.push_back(op.start_us);
    out.push_back(op.end_us);
  }
  out.push_back(static_cast<double>(r.received.size()));
  for (const TransferRecord& x : r.received) put_transfer(out, x);
  out.push_back(static_cast<double>(r.sent.size()));
  for (const TransferRecord& x : r.sent) put_transfer(out, x);
  out.push_back(static_cast<double>(r.peak_buffer_bytes));
  return out;
}

RankIterationRecord decode_record(const std::vector<double>& data) {
  Reader in(data);
  RankIterationRecord r;
  const auto ops = static_cast<std::size_t>(in.next());
  for (std::size_t i = 0; i < ops; ++i) {
    OpRecord rec;
    rec.op = in.op();
    rec.start_us = in.next();
    rec.end_us = in.next();
    r.ops.push_back(rec);
  }
  const auto received = static_cast<std::size_t>(in.next());
  for (std::size_t i = 0; i < received; ++i) r.received.push_back(in.transfer());
  const auto sent = static_cast<std::size_t>(in.next());
  for (std::size_t i = 0; i < sent; ++i) r.sent.push_back(in.transfer());
  r.peak_buffer_bytes = static_cast<std::uint64_t>(in.next());
  return r;
}

ClockOffset offset_from_rounds(const std::vector<PingRound>& rounds) {
  PPB_ASSERT(!rounds.empty(), "no ping-pong rounds");
  const PingRound* best = &rounds[0];
  for (const PingRound& r : rounds) {
    if (r.t1_us - r.t0_us < best->t1_us - best->t0_us) best = &r;
  }
  return ClockOffset{best->remote_us - (best->t0_us + best->t1_us) / 2, (best->t1_us - best->t0_us) / 2};
}

Timeline assemble_measured(const Schedule& schedule, const std::vector<RankIterationRecord>& records,
                           const std::vector<double>& offset_us) {
  PPB_ASSERT(static_cast<int>(records.size()) == schedule.num_ranks, records.size(), " rank records for ",
             schedule.num_ranks, " ranks");
  Timeline t;
  set_timeline_header(t, schedule, "measured");

  double origin = std::numeric_limits<double>::infinity();
  for (std::size_t r = 0; r < records.size(); ++r) {
    for (const OpRecord& op : records[r].ops) origin = std::min(origin, op.start_us - offset_us[r]);
  }
  if (!std::isfinite(origin)) origin = 0;
  auto shift = [&](double us, std::size_t r) { return us - offset_us[r] - origin; };

  std::map<std::tuple<int, int, int, int>, double> send_time;
  for (std::size_t r = 0; r < records.size(); ++r) {
    for (const OpRecord& op : records[r].ops) t.ranks[r].push_back({op.op, shift(op.start_us, r), shift(op.end_us, r)});
    for (const TransferRecord& x : records[r].sent) send_time[transfer_key(x)] = shift(x.send_us, r);
  }
  for (std::size_t r = 0; r < records.size(); ++r) {
    for (TransferRecord x : records[r].received) {
      const auto it = send_time.find(transfer_key(x));
      x.send_us = it != send_time.end() ? it->second : std::numeric_limits<double>::quiet_NaN();
      x.arrive_us = shift(x.arrive_us, r);
      if (!std::isnan(x.wait_start_us)) x.wait_start_us = shift(x.wait_start_us, r);
      t.transfers.push_back(x);
    }
  }
  std::sort(t.transfers.begin(), t.transfers.end(),
            [](const TransferRecord& a, const TransferRecord& b) { return a.send_us < b.send_us; });
  return t;
}

}  // namespace ppb
