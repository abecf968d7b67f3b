#include "render/ascii.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/errors.h"
#include "render/metrics_table.h"
#include "render/time_axis.h"
#include "render/timeline_labels.h"

namespace ppb {
namespace {

constexpr char kIdle = '.';
constexpr char kOutside = ' ';
constexpr int kMinAxisColumns = 10;

struct Source {
  const Timeline* timeline;
  const char* name;  // "measured", "predicted" or "" when alone
};

// "GPU 1 (stage 1)" or, with chunks, "GPU 1 (stages 1,5)".
std::string rank_label(const Timeline& t, int rank) {
  int count = 0;
  const std::string stages = stages_of_rank(t, rank, &count);
  return "GPU " + std::to_string(rank) + (count > 1 ? " (stages " : " (stage ") + stages + ")";
}

int chunk_of(const Timeline& t, int stage) {
  return t.num_ranks > 0 && stage >= 0 ? stage / t.num_ranks : 0;
}

char fill_char(const Timeline& t, const Op& op) {
  const char letter = kind_letter(op.kind);
  return chunk_of(t, op.stage) % 2 == 1 ? static_cast<char>(std::tolower(letter)) : letter;
}

std::string draw_row(const Timeline& t, int rank, int columns, double us_per_col) {
  const int own_end = std::min(columns, static_cast<int>(std::ceil(timeline_end_us(t) / us_per_col - 1e-9)));
  std::string row(static_cast<std::size_t>(columns), kOutside);
  std::fill(row.begin(), row.begin() + std::max(own_end, 0), kIdle);
  for (const OpRecord& rec : t.ranks[static_cast<std::size_t>(rank)]) {
    // A column belongs to the op covering its midpoint; an op too short to own a
    // midpoint still marks its column when that column is otherwise idle.
    int first = static_cast<int>(std::ceil(rec.start_us / us_per_col - 0.5));
    int last = static_cast<int>(std::ceil(rec.end_us / us_per_col - 0.5)) - 1;
    first = std::max(first, 0);
    last = std::min(last, columns - 1);
    const char fill = fill_char(t, rec.op);
    if (last < first) {
      const int c = std::min(columns - 1, static_cast<int>(0.5 * (rec.start_us + rec.end_us) / us_per_col));
      if (c >= 0 && row[static_cast<std::size_t>(c)] == kIdle) row[static_cast<std::size_t>(c)] = fill;
      continue;
    }
    for (int c = first; c <= last; ++c) row[static_cast<std::size_t>(c)] = fill;
    if (rec.op.kind == OpKind::Optimizer) continue;
    const std::string label = fill + std::to_string(rec.op.microbatch);
    if (last - first + 1 >= static_cast<int>(label.size())) row.replace(static_cast<std::size_t>(first), label.size(), label);
  }
  return row;
}

const char* ansi_colour(char c) {
  switch (std::toupper(static_cast<unsigned char>(c))) {
    case 'F': return "\033[34m";  // blue
    case 'B': return "\033[32m";  // green
    case 'W': return "\033[33m";  // yellow
    case 'O': return "\033[35m";  // magenta
    default: return "\033[2m";    // dim: idle
  }
}

// Colours whole runs of one kind, so a label inside a box takes the box's colour.
std::string colourise(const std::string& row) {
  std::string out;
  char current = 0;
  for (std::size_t i = 0; i < row.size(); ++i) {
    char c = row[i];
    if (std::isdigit(static_cast<unsigned char>(c))) c = current;  // a label's digits
    const char kind = c == kOutside ? kIdle : c;
    if (std::toupper(static_cast<unsigned char>(kind)) != std::toupper(static_cast<unsigned char>(current)) || i == 0) {
      out += "\033[0m";
      out += ansi_colour(kind);
      current = kind;
    }
    out += row[i];
  }
  return out + "\033[0m";
}

std::string axis_lines(int indent, int columns, double us_per_col) {
  const double span = columns * us_per_col;
  const TimeUnit unit = time_unit_for(span);
  std::string ruler(static_cast<std::size_t>(columns), '-');
  std::string labels(static_cast<std::size_t>(columns) + 16, ' ');
  int free_from = 0;  // first column a new tick label may use
  for (double tick : time_ticks(span, std::max(1, columns / 12), unit)) {
    const int c = std::min(columns - 1, static_cast<int>(std::lround(tick / us_per_col)));
    ruler[static_cast<std::size_t>(c)] = '+';
    const std::string text = format_tick(tick, unit);
    if (c >= free_from && c + static_cast<int>(text.size()) <= columns + 4) {
      labels.replace(static_cast<std::size_t>(c), text.size(), text);
      free_from = c + static_cast<int>(text.size()) + 1;
    }
  }
  while (!labels.empty() && labels.back() == ' ') labels.pop_back();
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  // The 0 tick sits under the first column; no corner is drawn before it.
  return pad + " " + ruler + "\n" + pad + " " + labels + "  " + unit.name + "\n";
}

std::string title_line(const Timeline& t, const Source* sources, int n) {
  std::string out = t.schedule + ", P=" + std::to_string(t.num_ranks) + ", M=" + std::to_string(t.num_microbatches);
  if (t.chunks > 1) out += ", v=" + std::to_string(t.chunks);
  out += " (";
  for (int i = 0; i < n; ++i) out += (i ? " and " : "") + sources[i].timeline->source;
  return out + ")\n";
}

std::string legend_line(const Timeline& t) {
  bool has_w = false, has_o = false;
  for (const auto& ops : t.ranks) {
    for (const OpRecord& rec : ops) {
      has_w |= rec.op.kind == OpKind::W;
      has_o |= rec.op.kind == OpKind::Optimizer;
    }
  }
  std::string out = t.split_backward ? "F forward  B backward (input gradient)" : "F forward  B backward";
  if (has_w) out += "  W weight gradient";
  if (has_o) out += "  O optimizer";
  out += "  . idle";
  if (t.chunks > 1) out += "  (lowercase: odd chunks)";
  return out + "\n";
}

std::string metrics_lines(const Timeline& t, const char* source) {
  const Metrics m = compute_metrics(t);
  char line[512];
  std::string prefix = *source ? std::string(source) + ": " : "";
  std::snprintf(line, sizeof(line), "%smakespan %s | bubble %.2f %%", prefix.c_str(), format_duration(m.makespan_us).c_str(),
                100.0 * m.bubble_fraction);
  std::string out = line;
  if (m.analytic_bubble) {
    const char* formula = t.chunks > 1 ? "(P-1)/(vM+P-1)" : "(P-1)/(M+P-1)";
    std::snprintf(line, sizeof(line), " | analytic %.2f %% (%s, uniform stages, no communication)",
                  100.0 * *m.analytic_bubble, formula);
    out += line;
  }
  out += " | peak activations";
  for (const RankMetrics& r : m.ranks) out += " " + std::to_string(r.peak_activations);
  return out + "\n";
}

}  // namespace

bool ascii_color_wanted(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return ::isatty(fd) == 1;
}

int ascii_terminal_width() {
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n > 20) return n;
  }
  winsize size{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 20) return size.ws_col;
  return 100;
}

std::string render_ascii(const Timeline& timeline, const AsciiOptions& options) {
  return render_ascii(nullptr, &timeline, options);
}

std::string render_ascii(const Timeline* measured, const Timeline* predicted, const AsciiOptions& options) {
  PPB_ASSERT(measured != nullptr || predicted != nullptr, "render_ascii needs a timeline");
  Source sources[2] = {{nullptr, ""}, {nullptr, ""}};
  int n = 0;
  if (measured != nullptr) sources[n++] = {measured, "measured"};
  if (predicted != nullptr) sources[n++] = {predicted, "predicted"};
  if (n == 1) sources[0].name = "";
  const Timeline& first = *sources[0].timeline;
  PPB_ASSERT(n == 1 || measured->num_ranks == predicted->num_ranks, "measured and predicted rank counts differ");

  std::vector<std::string> labels;
  std::size_t label_width = 0;
  for (int r = 0; r < first.num_ranks; ++r) {
    for (int i = 0; i < n; ++i) {
      std::string label = rank_label(*sources[i].timeline, r);
      if (*sources[i].name) label += std::string(" ") + sources[i].name;
      label_width = std::max(label_width, label.size());
      labels.push_back(std::move(label));
    }
  }
  const int columns = std::max(kMinAxisColumns, options.width - static_cast<int>(label_width) - 3);
  double end = 0;
  for (int i = 0; i < n; ++i) end = std::max(end, timeline_end_us(*sources[i].timeline));
  const double us_per_col = end > 0 ? end / columns : 1.0;

  std::string out;
  if (options.title) out += title_line(first, sources, n);
  std::size_t row_index = 0;
  for (int r = 0; r < first.num_ranks; ++r) {
    for (int i = 0; i < n; ++i) {
      const std::string row = draw_row(*sources[i].timeline, r, columns, us_per_col);
      std::string label = labels[row_index++];
      label.resize(label_width, ' ');
      out += label + " |" + (options.color ? colourise(row) : row) + "|\n";
    }
  }
  out += axis_lines(static_cast<int>(label_width) + 1, columns, us_per_col);
  out += legend_line(first);
  if (options.metrics) {
    for (int i = 0; i < n; ++i) out += metrics_lines(*sources[i].timeline, sources[i].name);
  }
  return out;
}

}  // namespace ppb
