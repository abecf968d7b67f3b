#include "cli/cuda_options.h"

#include <string>

namespace ppb {

void add_cuda_backend_options(CLI::App& app, CudaBackendOptions& o) {
  const CLI::Validator kernel_kind(
      [](std::string& value) -> std::string {
        if (value == "spin" || value == "compute" || value == "memory") return {};
        return "unknown kernel '" + value + "' (expected spin, compute or memory)";
      },
      "spin|compute|memory");
  const CLI::Validator share(
      [](std::string& value) -> std::string {
        double v = 0;
        try {
          std::size_t used = 0;
          v = std::stod(value, &used);
          if (used != value.size()) throw std::invalid_argument(value);
        } catch (const std::exception&) {
          return "'" + value + "' is not a number";
        }
        if (!(v > 0.0 && v <= 1.0)) return "must be in (0, 1], got " + value;
        return {};
      },
      "(0,1]");
  app.add_option("--kernel", o.kernel, "GPU stage kernel: spin (timed), compute (FMA) or memory (copy)")
      ->check(kernel_kind)
      ->capture_default_str();
  app.add_option("--sm-share", o.sm_share, "share of the SMs each stage kernel uses, in (0, 1]")
      ->check(share)
      ->capture_default_str();
  app.add_flag_callback("--no-nvtx", [&o] { o.nvtx = false; }, "no NVTX ranges (Nsight Systems annotations)");
}

}  // namespace ppb
