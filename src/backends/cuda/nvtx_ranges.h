// NVTX ranges for Nsight Systems, in a "ppbench" domain: one per iteration and
// one per op ("F3@s1"), pushed and popped on the host thread around the
// enqueue (Nsight projects them onto the GPU work they launched). Compiled to
// nothing without NVTX, switched off at run time by --no-nvtx.
#pragma once

#include <string>

#ifdef PPB_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace ppb::cuda {

class NvtxRanges {
 public:
  explicit NvtxRanges(bool enabled) {
#ifdef PPB_HAVE_NVTX
    if (enabled) domain_ = nvtxDomainCreateA("ppbench");
#else
    (void)enabled;
#endif
  }
  ~NvtxRanges() {
#ifdef PPB_HAVE_NVTX
    if (domain_ != nullptr) nvtxDomainDestroy(domain_);
#endif
  }
  NvtxRanges(const NvtxRanges&) = delete;
  NvtxRanges& operator=(const NvtxRanges&) = delete;

  void push(const std::string& name) {
#ifdef PPB_HAVE_NVTX
    if (domain_ == nullptr) return;
    nvtxEventAttributes_t a{};
    a.version = NVTX_VERSION;
    a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    a.messageType = NVTX_MESSAGE_TYPE_ASCII;
    a.message.ascii = name.c_str();
    nvtxDomainRangePushEx(domain_, &a);
#else
    (void)name;
#endif
  }
  void pop() {
#ifdef PPB_HAVE_NVTX
    if (domain_ != nullptr) nvtxDomainRangePop(domain_);
#endif
  }
  bool enabled() const {
#ifdef PPB_HAVE_NVTX
    return domain_ != nullptr;
#else
    return false;
#endif
  }

 private:
#ifdef PPB_HAVE_NVTX
  nvtxDomainHandle_t domain_ = nullptr;
#endif
};

}  // namespace ppb::cuda
