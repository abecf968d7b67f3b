#include "io/schedule_io.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/json_file.h"

namespace ppb {

namespace {

struct ParsedAction {
  Op op;
  char letter;  // as written: F, B, I or W
};

bool parse_action(const std::string& cell, ParsedAction& out) {
  std::size_t i = 0;
  while (i < cell.size() && std::isdigit(static_cast<unsigned char>(cell[i]))) ++i;
  if (i == 0 || i + 1 >= cell.size()) return false;
  const char letter = cell[i];
  if (letter != 'F' && letter != 'B' && letter != 'I' && letter != 'W') return false;
  for (std::size_t j = i + 1; j < cell.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(cell[j]))) return false;
  }
  if (i > 9 || cell.size() - i - 1 > 9) return false;  // keeps stoi in range
  out.letter = letter;
  out.op.stage = std::stoi(cell.substr(0, i));
  out.op.microbatch = std::stoi(cell.substr(i + 1));
  out.op.kind = letter == 'F' ? OpKind::F : letter == 'W' ? OpKind::W : OpKind::B;
  return true;
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Completes a schedule read from a file: counts, placement (from which rank
// holds each stage's ops), chunks, then validate().
Schedule finish_parsed(std::vector<std::vector<ParsedAction>> rows, const std::string& source) {
  Schedule s;
  s.name = "file " + source.substr(source.rfind('/') + 1);  // generator stays empty
  s.num_ranks = static_cast<int>(rows.size());
  PPB_REQUIRE_INPUT(s.num_ranks > 0, source, ": no ranks in schedule");
  int max_stage = -1, max_mb = -1;
  bool has_i = false, has_w = false;
  std::map<int, int> stage_rank;
  // As in PyTorch, B is the full backward: it leaves no weight gradient for a W
  // to compute. Only an I (input-gradient backward) is followed by a W.
  std::set<std::pair<int, int>> full_backward;  // (stage, microbatch) written as B
  for (const auto& row : rows) {
    for (const ParsedAction& a : row) {
      if (a.letter == 'B') full_backward.emplace(a.op.stage, a.op.microbatch);
    }
  }
  for (int r = 0; r < s.num_ranks; ++r) {
    for (const ParsedAction& a : rows[static_cast<std::size_t>(r)]) {
      PPB_REQUIRE_INPUT(a.letter != 'W' || full_backward.count({a.op.stage, a.op.microbatch}) == 0, source, ": op ",
                        action_string(a.op, true), " (rank ", r, ") is a W after the full backward ", a.op.stage, "B",
                        a.op.microbatch, ": B is a full backward, and a W follows only an input-gradient backward I (",
                        a.op.stage, "I", a.op.microbatch, ")");
      max_stage = std::max(max_stage, a.op.stage);
      max_mb = std::max(max_mb, a.op.microbatch);
      has_i |= a.letter == 'I';
      has_w |= a.letter == 'W';
      const auto [it, inserted] = stage_rank.emplace(a.op.stage, r);
      PPB_REQUIRE_INPUT(inserted || it->second == r, source, ": stage ", a.op.stage, " has ops on both rank ",
                        it->second, " and rank ", r);
    }
  }
  PPB_REQUIRE_INPUT(max_stage >= 0, source, ": schedule has no ops");
  PPB_REQUIRE_INPUT(static_cast<int>(stage_rank.size()) == max_stage + 1, source,
                    ": stages are not numbered 0..", max_stage, " without gaps");
  PPB_REQUIRE_INPUT((max_stage + 1) % s.num_ranks == 0, source, ": ", max_stage + 1,
                    " stages do not divide evenly over ", s.num_ranks, " ranks");
  s.num_microbatches = max_mb + 1;
  s.chunks = (max_stage + 1) / s.num_ranks;
  s.split_backward = has_i || has_w;
  for (const auto& [stage, rank] : stage_rank) s.stage_rank.push_back(rank);
  s.ops.resize(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (const ParsedAction& a : rows[r]) {
      PPB_REQUIRE_INPUT(!(s.split_backward && a.letter == 'B' && has_i), source, ": mixes full backward (B) and ",
                        "input-gradient backward (I) ops");
      s.ops[r].push_back(a.op);
    }
  }
  try {
    validate(s);
  } catch (const ScheduleError& e) {
    PPB_THROW(InputError, source, ": ", e.what());
  }
  return s;
}

}  // namespace

std::string action_string(const Op& op, bool split_backward) {
  const char letter = (op.kind == OpKind::B && split_backward) ? 'I' : kind_letter(op.kind);
  return std::to_string(op.stage) + letter + std::to_string(op.microbatch);
}

nlohmann::json schedule_to_json(const Schedule& s) {
  nlohmann::json ranks = nlohmann::json::array();
  for (const auto& list : s.ops) {
    nlohmann::json row = nlohmann::json::array();
    for (const Op& op : list) row.push_back(action_string(op, s.split_backward));
    ranks.push_back(std::move(row));
  }
  return nlohmann::json{{"schema", "ppbench.schedule/1"},
                        {"name", s.name},
                        {"num_ranks", s.num_ranks},
                        {"num_microbatches", s.num_microbatches},
                        {"chunks", s.chunks},
                        {"split_backward", s.split_backward},
                        {"stage_rank", s.stage_rank},
                        {"ranks", ranks}};
}

std::string schedule_to_csv(const Schedule& s) {
  std::string out;
  for (const auto& list : s.ops) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i) out += ',';
      out += action_string(list[i], s.split_backward);
    }
    out += '\n';
  }
  return out;
}

Schedule schedule_from_json(const nlohmann::json& doc, const std::string& source) {
  PPB_REQUIRE_INPUT(doc.is_object(), source, ": expected a JSON object");
  PPB_REQUIRE_INPUT(doc.value("schema", "") == "ppbench.schedule/1", source,
                    ": \"schema\" must be \"ppbench.schedule/1\"");
  PPB_REQUIRE_INPUT(doc.contains("ranks") && doc["ranks"].is_array(), source, ": \"ranks\" must be an array of op lists");
  std::vector<std::vector<ParsedAction>> rows;
  for (const auto& row : doc["ranks"]) {
    PPB_REQUIRE_INPUT(row.is_array(), source, ": each entry of \"ranks\" must be an array of ops");
    rows.emplace_back();
    for (const auto& cell : row) {
      ParsedAction a{};
      PPB_REQUIRE_INPUT(cell.is_string() && parse_action(cell.get<std::string>(), a), source, ": bad op ", cell.dump(),
                        " (expected e.g. \"0F1\")");
      rows.back().push_back(a);
    }
  }
  Schedule s = finish_parsed(std::move(rows), source);
  // The file's "name" is a label, never the generator: a file may hold any op order.
  if (doc.contains("name") && doc["name"].is_string() && !doc["name"].get<std::string>().empty()) {
    s.name += " (" + doc["name"].get<std::string>() + ")";
  }
  if (doc.contains("num_microbatches")) {
    PPB_REQUIRE_INPUT(doc["num_microbatches"] == s.num_microbatches, source, ": \"num_microbatches\" is ",
                      doc["num_microbatches"].dump(), " but the ops use ", s.num_microbatches);
  }
  if (doc.contains("stage_rank")) {
    PPB_REQUIRE_INPUT(doc["stage_rank"] == nlohmann::json(s.stage_rank), source,
                      ": \"stage_rank\" disagrees with the ranks the ops are on");
  }
  return s;
}

Schedule schedule_from_csv(const std::string& text, const std::string& source) {
  std::vector<std::vector<ParsedAction>> rows;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    rows.emplace_back();
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) {
      cell = trim(cell);
      if (cell.empty() || cell == "None") continue;  // idle step
      ParsedAction a{};
      PPB_REQUIRE_INPUT(parse_action(cell, a), source, ":", line_no, ": bad cell '", cell,
                        "' (expected {stage}{F|B|I|W}{microbatch}, e.g. 0F1)");
      rows.back().push_back(a);
    }
  }
  return finish_parsed(std::move(rows), source);
}

Schedule load_schedule_file(const std::string& path) {
  const std::string text = read_file(path);
  const auto ext = path.size() >= 4 ? path.substr(path.size() - 4) : std::string();
  if (ext == ".csv") return schedule_from_csv(text, path);
  return schedule_from_json(parse_json(text, path), path);
}

void save_schedule_file(const Schedule& schedule, const std::string& path) {
  const bool csv = path.size() >= 4 && path.substr(path.size() - 4) == ".csv";
  write_file_atomically(path, csv ? schedule_to_csv(schedule) : schedule_to_json(schedule).dump(1) + "\n");
}

}  // namespace ppb
