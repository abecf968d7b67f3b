#include "core/op.h"

namespace ppb {

char kind_letter(OpKind kind) {
  switch (kind) {
    case OpKind::F: return 'F';
    case OpKind::B: return 'B';
    case OpKind::W: return 'W';
    case OpKind::Optimizer: return 'O';
  }
  return '?';
}

const char* kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::F: return "forward";
    case OpKind::B: return "backward";
    case OpKind::W: return "weight_gradient";
    case OpKind::Optimizer: return "optimizer";
  }
  return "unknown";
}

std::string describe(const Op& op) {
  return std::string(1, kind_letter(op.kind)) + std::to_string(op.microbatch) + "@s" +
         std::to_string(op.stage);
}

}  // namespace ppb
