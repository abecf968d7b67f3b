#include "backends/cuda/cuda_backend.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "backends/cuda/buffer_pool.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/device_probes.h"
#include "backends/cuda/device_progress.h"
#include "backends/cuda/event_pool.h"
#include "backends/cuda/nccl_links.h"
#include "backends/cuda/nvtx_ranges.h"
#include "backends/cuda/stage_kernel.h"
#include "backends/cuda/stream_concurrency.h"
#include "backends/cuda/transfer_plan.h"
#include "core/errors.h"
#include "core/schedule_walk.h"
#include "stage_kernels.h"

namespace ppb {
namespace cuda {
namespace {

double steady_now_us() {
  using namespace std::chrono;
  return duration<double, std::micro>(steady_clock::now().time_since_epoch()).count();
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The file the dynamic linker took `symbol` from: which libnccl actually
// loaded (the build tree's RPATH, LD_LIBRARY_PATH and a packed copy can each
// win), or the program itself where NCCL is linked in statically.
std::string loaded_from(const void* symbol) {
  Dl_info info{};
  if (::dladdr(symbol, &info) == 0 || info.dli_fname == nullptr || *info.dli_fname == '\0') {
    char self[PATH_MAX] = {0};
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
    return n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string();
  }
  char resolved[PATH_MAX] = {0};
  return ::realpath(info.dli_fname, resolved) != nullptr ? resolved : info.dli_fname;
}

// NCCL_VERSION_CODE: X*10000 + Y*100 + Z since 2.9.
std::string nccl_version_text(int code) {
  return std::to_string(code / 10000) + "." + std::to_string((code / 100) % 100) + "." + std::to_string(code % 100);
}

struct DeviceFacts {
  std::string name;
  std::string pci_bus_id;
  int sm_count = 0;
  int sm_clock_khz = 0;
  int memory_clock_khz = 0;
  std::size_t l2_bytes = 0;
  std::size_t memory_bytes = 0;
};

DeviceFacts query_device(int device) {
  DeviceFacts f;
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  f.name = prop.name;
  f.sm_count = prop.multiProcessorCount;
  f.l2_bytes = static_cast<std::size_t>(prop.l2CacheSize);
  f.memory_bytes = prop.totalGlobalMem;
  CUDA_CHECK(cudaDeviceGetAttribute(&f.sm_clock_khz, cudaDevAttrClockRate, device));
  CUDA_CHECK(cudaDeviceGetAttribute(&f.memory_clock_khz, cudaDevAttrMemoryClockRate, device));
  char bus[32] = {0};
  CUDA_CHECK(cudaDeviceGetPCIBusId(bus, sizeof(bus), device));
  f.pci_bus_id = bus;
  return f;
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(const CudaBackendOptions& options, HostComm& comm, int device)
      : options_(options), comm_(comm), rank_(comm.rank()), device_(device), nvtx_(options.nvtx) {
    CUDA_CHECK(cudaSetDevice(device_));
    facts_ = query_device(device_);
    CUDA_CHECK(cudaStreamCreateWithFlags(&compute_, cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreate(&ref_));
    kernel_ = std::make_unique<StageKernel>(options_, facts_.sm_count, facts_.l2_bytes);
    // From here abort() reaches every communicator, those made in set-up too.
    links_ = std::make_unique<NcclLinks>(rank_, comm_, [this](std::string step) { set_step(std::move(step)); });
    shared_links_.store(links_.get());
    gather_gpus();
  }

  ~CudaBackend() override {
    // Nothing may be in flight on buffers we free; after abort() the NCCL
    // kernels are torn down and a synchronise could wait on a dead peer.
    if (!aborted_.load()) CUDA_CHECK_NOTHROW(cudaDeviceSynchronize());
    shared_links_.store(nullptr);
    links_.reset();
    buffers_.reset();
    events_.reset();
    kernel_.reset();
    if (ref_ != nullptr) CUDA_CHECK_NOTHROW(cudaEventDestroy(ref_));
    if (compute_ != nullptr) CUDA_CHECK_NOTHROW(cudaStreamDestroy(compute_));
  }

  std::string name() const override { return "cuda"; }

  nlohmann::json context() const override {
    int driver = 0, runtime = 0, nccl = 0;
    CUDA_CHECK_NOTHROW(cudaDriverGetVersion(&driver));
    CUDA_CHECK_NOTHROW(cudaRuntimeGetVersion(&runtime));
    NCCL_CHECK_NOTHROW(ncclGetVersion(&nccl));  // the library that loaded, not the header built against
    auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); };
    nlohmann::json c = {
        {"backend", "cuda"},
        {"gpus", gpus_},
        {"device",
         {{"index", device_},
          {"name", facts_.name},
          {"pci_bus_id", facts_.pci_bus_id},
          {"sm_count", facts_.sm_count},
          {"sm_clock_mhz", facts_.sm_clock_khz / 1000.0},
          {"memory_clock_mhz", facts_.memory_clock_khz / 1000.0},
          {"l2_bytes", facts_.l2_bytes},
          {"memory_bytes", facts_.memory_bytes}}},
        {"cuda_driver_version", version(driver)},
        {"cuda_runtime_version", version(runtime)},
        {"nccl_version", nccl_version_text(nccl)},
        {"nccl_header_version", nccl_version_text(NCCL_VERSION_CODE)},
        {"nccl_library", loaded_from(reinterpret_cast<const void*>(&ncclGetVersion))},
        {"kernel", kernel_->describe()},
        {"nvtx", nvtx_.enabled()},
        {"p2p", {{"design", "one 2-rank NCCL communicator and stream per directed link; receives posted in "
                            "the sender's order"},
                 {"links", links_ ? links_->channels().size() : 0}}},
        {"hardware_queues",
         {{"requested", std::getenv("CUDA_DEVICE_MAX_CONNECTIONS") != nullptr
                            ? nlohmann::json(std::getenv("CUDA_DEVICE_MAX_CONNECTIONS"))
                            : nlohmann::json()},
          {"mps", mps_ < 0 ? nlohmann::json() : nlohmann::json(mps_ == 1)},
          {"streams_probed", queues_.streams},
          {"streams_run_concurrently", queues_.concurrent},
          {"method", "one 2 ms single-block spin kernel on each of that many new streams, in this rank's turn on "
                     "the GPU: the most running at one instant (streams the driver put on one hardware queue run "
                     "one after the other)"}}},
        {"clock_alignment",
         {{"method", "CUDA events mapped to the host steady clock through a reference event recorded at each "
                     "iteration start (host time taken around its synchronisation)"},
          {"host_gpu_bound_us", max_ref_bound_us_},
          {"globaltimer_minus_host_us", globaltimer_offsets_us_},
          {"globaltimer_probe_bound_us", globaltimer_bounds_us_}}},
    };
    if (buffers_) {
      c["buffer_pool_allocated_bytes"] = buffers_->allocated_bytes();
      c["buffer_pool_buffers_per_iteration"] = buffers_per_iteration_;
      // Allocated in prepare: every buffer but those acquire() had to add.
      c["buffer_pool_reserved_buffers"] =
          buffers_->allocated_bytes() / buffers_->buffer_bytes() - buffers_->growth_count();
      c["buffer_pool_growths"] = buffers_->growth_count();
    }
    if (const char* queues = std::getenv("CUDA_DEVICE_MAX_CONNECTIONS")) c["cuda_device_max_connections"] = queues;
    if (const char* order = std::getenv("NCCL_LAUNCH_ORDER_IMPLICIT")) c["nccl_launch_order_implicit"] = order;
    return c;
  }

  // Again for each plan (a sweep's point, calibrate's size and placement),
  // after the last plan's final end_iteration: the communicators of links
  // already made, the kernel calibration and the device probes stay.
  void prepare(const RankPlan& plan) override {
    PPB_ASSERT(plan.schedule != nullptr, "RankPlan without a schedule");
    prepared_ = false;
    {
      // The last plan's lists name its ops and events (destroyed below):
      // describe_stall() must not read them as this plan's.
      std::lock_guard<std::mutex> lock(stall_mutex_);
      settled_ = false;
    }
    ops_.clear();
    received_.clear();
    sent_.clear();
    plan_ = plan;
    schedule_ = plan.schedule;
    index_ = OpIndexer{schedule_->num_stages(), schedule_->num_microbatches};
    tplan_ = plan_transfers(*schedule_);
    CUDA_CHECK(cudaSetDevice(device_));
    // The last plan's buffers count against the memory this one may take.
    buffers_.reset();
    events_.reset();
    check_buffer_memory();

    links_->add(tplan_);
    in_links_.assign(tplan_.links.size(), InLink{});
    out_channel_.assign(static_cast<std::size_t>(schedule_->num_ranks), nullptr);
    for (std::size_t l = 0; l < tplan_.links.size(); ++l) {
      const LinkPlan& link = tplan_.links[l];
      if (link.src_rank == rank_) out_channel_[static_cast<std::size_t>(link.dst_rank)] = links_->find(rank_, link.dst_rank);
      if (link.dst_rank == rank_) in_links_[l].channel = links_->find(link.src_rank, rank_);
    }
    incoming_.assign(index_.size(), Transfer{});
    for (const Transfer& t : plan.receives) incoming_[index_(t.producer)] = t;

    std::size_t channels = 0;
    for (const InLink& in : in_links_) channels += in.channel != nullptr ? 1 : 0;
    for (const LinkChannel* out : out_channel_) channels += out != nullptr ? 1 : 0;
    const std::size_t per_iteration = 2 * schedule_->ops[static_cast<std::size_t>(rank_)].size() +
                                      3 * plan.receives.size() + 2 * plan.sends.size() + channels + 4;
    events_ = std::make_unique<EventPool>(per_iteration);
    buffers_ = std::make_unique<BufferPool>(static_cast<std::size_t>(plan.activation_bytes), compute_);
    set_step("allocating activation buffers");
    buffers_->reserve(buffers_per_iteration_);
    if (!device_measured_) {
      measure_device_in_turns();
      device_measured_ = true;
    }
    set_step("");
    prepared_ = true;
  }

  // The reference event: everything of the last iteration has completed, so
  // it runs at once (unless another rank's kernels hold a shared GPU: hence
  // between barriers); the host time is taken around its completion.
  void mark_clock_reference() override {
    PPB_ASSERT(prepared_, "mark_clock_reference before prepare");
    CUDA_CHECK(cudaStreamSynchronize(compute_));
    const double before = now_us();
    CUDA_CHECK(cudaEventRecord(ref_, compute_));
    CUDA_CHECK(cudaEventSynchronize(ref_));
    const double after = now_us();
    host_ref_us_ = 0.5 * (before + after);
    max_ref_bound_us_ = std::max(max_ref_bound_us_, 0.5 * (after - before));
    reference_fresh_ = true;
  }

  void begin_iteration(int iteration) override {
    PPB_ASSERT(prepared_, "begin_iteration before prepare");
    if (!reference_fresh_) mark_clock_reference();  // a caller without the runtime's barriers
    reference_fresh_ = false;
    {
      // From here the per-iteration lists change: describe_stall() stays off them.
      std::lock_guard<std::mutex> lock(stall_mutex_);
      settled_ = false;
    }
    events_->reset();
    buffers_->reset_iteration();
    ops_.clear();
    received_.clear();
    sent_.clear();
    consumed_inputs_.clear();
    recv_slot_.assign(index_.size(), -1);
    stash_.assign(index_.size(), nullptr);
    for (InLink& in : in_links_) in.next = 0;
    nvtx_.push("iteration " + std::to_string(iteration));
  }

  void wait_input(const Transfer& t) override {
    const int link = tplan_.link_index(t.src_rank, rank_);
    PPB_ASSERT(link >= 0 && in_links_[static_cast<std::size_t>(link)].channel != nullptr, "no link for ",
               describe(t.producer), " from rank ", t.src_rank);
    InLink& in = in_links_[static_cast<std::size_t>(link)];
    const std::vector<Op>& order = tplan_.links[static_cast<std::size_t>(link)].producers;
    // Post, in the sender's order, every receive up to this one.
    while (recv_slot_[index_(t.producer)] < 0 && in.next < order.size()) post_receive(in, order[in.next++]);
    const int slot = recv_slot_[index_(t.producer)];
    PPB_ASSERT(slot >= 0, describe(t.producer), " is not sent on the link from rank ", t.src_rank);
    Received& r = received_[static_cast<std::size_t>(slot)];
    r.wait = events_->next();
    CUDA_CHECK(cudaEventRecord(r.wait, compute_));
    CUDA_CHECK(cudaStreamWaitEvent(compute_, r.done, 0));
    consumed_inputs_.push_back(r.buffer);
  }

  void compute(const Op& op, double target_us) override {
    nvtx_.push(describe(op));
    if (op.kind == OpKind::F) stash_[index_(op)] = buffers_->acquire(compute_, false);
    if (op.kind == OpKind::B && remote_consumer_rank(*schedule_, op) >= 0) {
      stash_[index_(op)] = buffers_->acquire(compute_, false);  // the gradient to send
    }
    Pending p{op, events_->next(), events_->next()};
    CUDA_CHECK(cudaEventRecord(p.start, compute_));
    kernel_->launch(compute_, target_us);
    CUDA_CHECK(cudaEventRecord(p.end, compute_));
    ops_.push_back(p);

    for (void* buffer : consumed_inputs_) buffers_->release(buffer, compute_, p.end);
    consumed_inputs_.clear();
    // The forward's activation lives until the backward that needs it last.
    const bool last_use = schedule_->split_backward ? op.kind == OpKind::W : op.kind == OpKind::B;
    if (last_use) {
      const std::size_t f = index_(Op{OpKind::F, op.stage, op.microbatch});
      buffers_->release(stash_[f], compute_, p.end);
      stash_[f] = nullptr;
    }
    nvtx_.pop();
  }

  void send_output(const Transfer& t) override {
    LinkChannel* ch = out_channel_[static_cast<std::size_t>(t.dst_rank)];
    PPB_ASSERT(ch != nullptr, "no link to rank ", t.dst_rank);
    const Pending* producer = nullptr;
    for (auto it = ops_.rbegin(); it != ops_.rend() && producer == nullptr; ++it) {
      if (it->op == t.producer) producer = &*it;
    }
    PPB_ASSERT(producer != nullptr, "send of ", describe(t.producer), " before it ran");
    void* buffer = stash_[index_(t.producer)];
    PPB_ASSERT(buffer != nullptr, "no buffer for ", describe(t.producer));

    // send = the producer's end, as on the CPU backend (MPI_Isend right after
    // the op): arrive - send then includes any queueing behind earlier sends on
    // the link, which is what the replay's per-link cost must carry.
    Sent s{t, producer->end, events_->next()};
    CUDA_CHECK(cudaStreamWaitEvent(ch->stream, producer->end, 0));
    links_->send(*ch, buffer, message_bytes(), t.producer);
    CUDA_CHECK(cudaEventRecord(s.end, ch->stream));
    sent_.push_back(s);
    if (t.producer.kind == OpKind::B) {  // the gradient is not needed after its send
      buffers_->release(buffer, ch->stream, s.end);
      stash_[index_(t.producer)] = nullptr;
    }
  }

  const RankIterationRecord& end_iteration() override {
    // Post any receive the executor did not wait for, so no sender blocks forever.
    for (std::size_t l = 0; l < in_links_.size(); ++l) {
      InLink& in = in_links_[l];
      if (in.channel == nullptr) continue;
      const std::vector<Op>& order = tplan_.links[l].producers;
      while (in.next < order.size()) post_receive(in, order[in.next++]);
    }
    {
      std::lock_guard<std::mutex> lock(stall_mutex_);
      settled_ = true;  // everything of the iteration is enqueued: the lists stay as they are until begin_iteration
    }
    std::vector<cudaEvent_t> finals{events_->next()};
    CUDA_CHECK(cudaEventRecord(finals[0], compute_));
    auto final_of = [&](const LinkChannel* ch) {
      if (ch == nullptr) return;
      finals.push_back(events_->next());
      CUDA_CHECK(cudaEventRecord(finals.back(), ch->stream));
    };
    for (const InLink& in : in_links_) final_of(in.channel);
    for (const LinkChannel* out : out_channel_) final_of(out);
    wait_for(finals);
    nvtx_.pop();

    RankIterationRecord& rec = record_;
    clear_record(rec);
    for (const Pending& p : ops_) rec.ops.push_back(OpRecord{p.op, time_of(p.start), time_of(p.end)});
    for (const Received& r : received_) {
      const Transfer& t = r.transfer;
      // send: the sender's clock, joined by the runtime.
      TransferRecord tr{t.producer, t.src_rank, t.dst_rank, kNaN, time_of(r.done), t.bytes};
      if (r.wait != nullptr) {
        const double w = time_of(r.wait);
        if (w < tr.arrive_us) tr.wait_start_us = w;
      }
      rec.received.push_back(tr);
    }
    for (const Sent& s : sent_) {
      const Transfer& t = s.transfer;
      rec.sent.push_back(
          TransferRecord{t.producer, t.src_rank, t.dst_rank, time_of(s.producer_end), time_of(s.end), t.bytes});
    }
    rec.peak_buffer_bytes = buffers_->peak_bytes();
    return rec;
  }

  double now_us() const override { return steady_now_us(); }
  double timestamp_bound_us() const override { return max_ref_bound_us_; }

  std::string describe_stall() const noexcept override {
    try {
      std::lock_guard<std::mutex> lock(stall_mutex_);
      if (!prepared_.load()) return step_;
      // Once settled, the host only polls (its gate holder is then a routine
      // ncclCommGetAsyncError): the device's progress is the account.
      if (settled_) return describe_device_progress(device_progress());
      const std::string call = shared_links_.load()->call_in_progress();
      if (!call.empty()) return "the host thread is inside " + call;
      return "";  // the host is still enqueueing: the executor's account is the current one
    } catch (...) {
      return "device state unavailable";
    }
  }

  void abort() noexcept override {
    aborted_.store(true);
    NcclLinks* links = shared_links_.load();
    if (links != nullptr && !links->abort(std::chrono::milliseconds(1000))) {
      std::fprintf(stderr, "ppbench: rank %d: NCCL communicators not aborted: the host thread stayed inside %s\n",
                   rank_, links->call_in_progress().c_str());
      std::fflush(stderr);
    }
  }

 private:
  struct Pending {
    Op op;
    cudaEvent_t start = nullptr;
    cudaEvent_t end = nullptr;
  };
  struct Received {
    Transfer transfer;
    cudaEvent_t done = nullptr;
    cudaEvent_t wait = nullptr;  // compute stream reached the wait
    void* buffer = nullptr;
  };
  struct Sent {
    Transfer transfer;
    cudaEvent_t producer_end = nullptr;  // the producing op's end (compute stream)
    cudaEvent_t end = nullptr;           // ncclSend complete on the link stream
  };
  struct InLink {
    LinkChannel* channel = nullptr;
    std::size_t next = 0;  // next receive to post, in the sender's order
  };

  // NCCL moves at least a byte, so a zero-byte plan still synchronises the two ends.
  std::size_t message_bytes() const { return static_cast<std::size_t>(std::max<std::uint64_t>(plan_.activation_bytes, 1)); }

  void post_receive(InLink& in, const Op& producer) {
    Received r;
    r.transfer = incoming_[index_(producer)];
    if (r.transfer.bytes == 0 && r.transfer.src_rank == r.transfer.dst_rank) {
      // Not in RankPlan::receives (the executor did not list it): describe it from the plan.
      r.transfer = Transfer{producer, in.channel->peer_rank, rank_, plan_.activation_bytes};
    }
    r.buffer = buffers_->acquire(in.channel->stream, true);
    r.done = events_->next();
    links_->receive(*in.channel, r.buffer, message_bytes(), producer);
    CUDA_CHECK(cudaEventRecord(r.done, in.channel->stream));
    recv_slot_[index_(producer)] = static_cast<int>(received_.size());
    received_.push_back(r);
  }

  // Polls instead of blocking so that NCCL's asynchronous errors and abort()
  // are noticed while a rank waits on a hung peer.
  void wait_for(const std::vector<cudaEvent_t>& events) {
    double last_check = now_us();
    for (;;) {
      // After abort() the NCCL kernels are torn down and events may complete
      // over garbage; the watchdog that called abort() ends the job, so wait.
      while (aborted_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      bool all = true;
      for (cudaEvent_t e : events) {
        const cudaError_t state = query_event(e);
        if (state == cudaErrorNotReady) {
          all = false;
          break;
        }
        if (state != cudaSuccess) throw_cuda_error(state, "cudaEventQuery (an iteration's last events)", __FILE__, __LINE__);
      }
      if (all) return;
      if (now_us() - last_check > 1000.0) {
        links_->check_async_errors();
        last_check = now_us();
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  // Collective: every rank's GPU ("name (PCI bus id)") for the context
  // block, and which ranks run on this rank's GPU (same host, same bus id):
  // under Slurm's --gpus-per-task each rank sees one GPU, under one-gpu.sh
  // all see the same one; the device count alone cannot tell.
  void gather_gpus() {
    struct RankGpu {
      char gpu[128];
      char host[256];
    } mine{};
    std::snprintf(mine.gpu, sizeof(mine.gpu), "%s (%s)", facts_.name.c_str(), facts_.pci_bus_id.c_str());
    ::gethostname(mine.host, sizeof(mine.host) - 1);
    std::vector<RankGpu> all(static_cast<std::size_t>(comm_.size()));
    comm_.allgather(&mine, sizeof(mine), all.data());
    ranks_on_my_gpu_ = 0;
    for (int r = 0; r < comm_.size(); ++r) {
      const RankGpu& other = all[static_cast<std::size_t>(r)];
      gpus_.emplace_back(other.gpu);
      if (std::strcmp(other.gpu, mine.gpu) != 0 || std::strcmp(other.host, mine.host) != 0) continue;
      if (r == rank_) my_turn_on_gpu_ = ranks_on_my_gpu_;
      ++ranks_on_my_gpu_;
    }
  }

  // Collective, before anything is allocated for the plan: every rank needs
  // one buffer per acquisition of an iteration (no reuse: no stream wait
  // added between receives and compute, no cudaMalloc inside an iteration,
  // which would synchronise the device under blocked NCCL kernels). A plan
  // that does not fit in 80% of the free memory, shared by the ranks on the
  // GPU, is refused on every rank with the numbers.
  void check_buffer_memory() {
    buffers_per_iteration_ = buffers_per_iteration(*schedule_, tplan_, rank_);
    const double need = static_cast<double>(buffers_per_iteration_) *
                        static_cast<double>(std::max<std::uint64_t>(plan_.activation_bytes, 16));
    std::size_t free_bytes = 0, total_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const int sharing = std::max(1, ranks_on_my_gpu_);
    const double budget = 0.8 * static_cast<double>(free_bytes) / sharing;
    const bool too_big = need > budget;
    set_step("waiting for the other ranks to check their buffer memory");
    if (comm_.any(too_big)) {
      auto mib = [](double bytes) { return std::to_string(static_cast<long long>(std::ceil(bytes / (1 << 20)))); };
      if (!too_big) PPB_THROW(InputError, "--activation-bytes: another rank's activation buffers do not fit its GPU");
      PPB_THROW(InputError, "--activation-bytes: rank ", rank_, " needs ", buffers_per_iteration_, " buffers of ",
                plan_.activation_bytes, " B (", mib(need), " MiB) per iteration, more than its share of free GPU memory (",
                mib(budget), " MiB: 80% of ", mib(static_cast<double>(free_bytes)), " MiB free, ", sharing,
                " rank(s) on the GPU); lower --activation-bytes or --num-batches");
    }
  }

  void set_step(std::string step) {
    std::lock_guard<std::mutex> lock(stall_mutex_);
    step_ = std::move(step);
  }

  // Called by describe_stall() on the watchdog thread, with the lists
  // settled. Event queries are thread-safe; the device is set for this thread.
  DeviceProgress device_progress() const {
    CUDA_CHECK(cudaSetDevice(device_));
    auto done = [](cudaEvent_t e) { return e != nullptr && query_event(e) == cudaSuccess; };
    DeviceProgress p;
    for (const Pending& o : ops_) p.ops.push_back({o.op, done(o.start), done(o.end)});
    for (const Received& r : received_) p.receives.push_back({r.transfer.producer, r.transfer.src_rank, done(r.done)});
    for (const Sent& x : sent_) p.sends.push_back({x.transfer.producer, x.transfer.dst_rank, done(x.end)});
    return p;
  }

  // Kernel calibration and the device probes, once per process. Ranks
  // sharing a GPU (launch/one-gpu.sh) take turns: side by side the compute and
  // memory kernels would be sized under contention, the timer probe's bound
  // would measure time slices and the queue probe the other ranks' work.
  // Collective over all ranks (every rank takes the same number of turns,
  // whatever its host); the timer offsets are gathered after.
  void measure_device_in_turns() {
    set_step("waiting for the other ranks before kernel calibration");
    if (!comm_.any(ranks_on_my_gpu_ > 1)) {
      measure_device("");
    } else {
      const long long turns = comm_.max(ranks_on_my_gpu_);
      for (long long turn = 0; turn < turns; ++turn) {
        if (turn == my_turn_on_gpu_) measure_device(" (its turn on the shared GPU)");
        set_step("waiting for the other ranks on this GPU to calibrate in turn");
        comm_.barrier();
      }
    }
    set_step("waiting for the other ranks' GPU timer probes");
    globaltimer_offsets_us_.assign(static_cast<std::size_t>(comm_.size()), 0.0);
    globaltimer_bounds_us_.assign(globaltimer_offsets_us_.size(), 0.0);
    comm_.allgather(&timer_.offset_us, sizeof(double), globaltimer_offsets_us_.data());
    comm_.allgather(&timer_.bound_us, sizeof(double), globaltimer_bounds_us_.data());
  }

  void measure_device(const std::string& turn) {
    set_step("calibrating the stage kernel" + turn);
    kernel_->calibrate(compute_);
    // %globaltimer against the host clock: ranks on one host share the host
    // clock, so differences between their offsets show how far their GPU
    // timers disagree.
    set_step("probing the GPU timer" + turn);
    timer_ = probe_globaltimer(compute_, [this] { return now_us(); });
    set_step("probing the hardware queues" + turn);
    queues_ = probe_concurrent_streams(requested_hardware_queues(std::getenv("CUDA_DEVICE_MAX_CONNECTIONS")), 2000.0);
    int mps = 0;
    mps_ = cudaDeviceGetAttribute(&mps, cudaDevAttrMpsEnabled, device_) == cudaSuccess ? mps : -1;
    (void)cudaGetLastError();  // an older driver without the attribute: unknown, not an error
  }

  double time_of(cudaEvent_t e) const {
    float ms = 0.f;
    CUDA_CHECK(cudaEventElapsedTime(&ms, ref_, e));
    return host_ref_us_ + 1000.0 * static_cast<double>(ms);
  }

  CudaBackendOptions options_;
  HostComm& comm_;
  int rank_;
  int device_;
  DeviceFacts facts_;
  std::vector<std::string> gpus_;
  int ranks_on_my_gpu_ = 1;  // this rank included
  int my_turn_on_gpu_ = 0;   // this rank's place among them, by rank
  NvtxRanges nvtx_;
  cudaStream_t compute_ = nullptr;
  cudaEvent_t ref_ = nullptr;
  std::unique_ptr<StageKernel> kernel_;
  std::unique_ptr<NcclLinks> links_;
  std::atomic<NcclLinks*> shared_links_{nullptr};  // links_ for the watchdog thread, once complete
  std::unique_ptr<EventPool> events_;
  std::unique_ptr<BufferPool> buffers_;
  std::size_t buffers_per_iteration_ = 0;

  RankPlan plan_;
  const Schedule* schedule_ = nullptr;
  OpIndexer index_;
  TransferPlan tplan_;
  std::vector<InLink> in_links_;            // by link index
  std::vector<LinkChannel*> out_channel_;   // by destination rank
  std::vector<Transfer> incoming_;          // by producer op index
  std::atomic<bool> prepared_{false};
  std::atomic<bool> aborted_{false};

  // What describe_stall() reads from the watchdog thread.
  mutable std::mutex stall_mutex_;
  std::string step_;      // set-up step; "" once prepared
  bool settled_ = false;  // the iteration is fully enqueued

  // Per iteration.
  double host_ref_us_ = 0;
  double max_ref_bound_us_ = 0;
  bool reference_fresh_ = false;  // marked since the last begin_iteration
  std::vector<Pending> ops_;
  std::vector<Received> received_;
  std::vector<Sent> sent_;
  std::vector<int> recv_slot_;     // by producer op index
  std::vector<void*> stash_;       // by op index: forward activations, gradients to send
  std::vector<void*> consumed_inputs_;
  RankIterationRecord record_;  // end_iteration's, reused

  // Measured once per process (measure_device_in_turns).
  bool device_measured_ = false;
  TimerProbe timer_;
  std::vector<double> globaltimer_offsets_us_;  // per rank
  std::vector<double> globaltimer_bounds_us_;   // per rank
  QueueProbe queues_;
  int mps_ = -1;  // cudaDevAttrMpsEnabled; -1: unknown
};

}  // namespace
}  // namespace cuda

bool cuda_backend_built() { return true; }

bool cuda_device_available() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options, HostComm& comm) {
  cuda::set_error_rank(comm.rank());
  PPB_REQUIRE_INPUT(options.sm_share > 0.0 && options.sm_share <= 1.0, "--sm-share: must be in (0, 1], got ",
                    options.sm_share);
  int count = 0;
  const cudaError_t state = cudaGetDeviceCount(&count);
  if (state != cudaSuccess) count = 0;
  if (comm.any(count == 0)) {
    PPB_THROW(RunError, "--backend cuda: ", count == 0 ? "no CUDA device on this rank" : "a rank has no CUDA device",
              " (", cuda::error_site(__FILE__, __LINE__), ")",
              state != cudaSuccess ? std::string(": ") + cudaGetErrorString(state) : std::string());
  }
  return std::make_unique<cuda::CudaBackend>(options, comm, comm.local_rank() % count);
}

}  // namespace ppb
