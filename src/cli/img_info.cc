// `cella img info [-f FMT] [--output human|json] [--backing-chain] [-U] FILE`
#include <fmt/format.h>

#include <algorithm>

#include "cli/img_common.h"
#include "cli/img_json.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

struct InfoArgs {
  std::string format;
  OutputFormat output = OutputFormat::kHuman;
  bool backing_chain = false;
  bool force_share = false;
  std::string filename;
};

// What `info` shows about one image of a chain.
struct ImageFacts {
  std::string filename;
  std::string format;
  uint64_t virtual_size = 0;
  uint64_t actual_size = 0;
  uint64_t cluster_size = 0;
  std::string backing_file;
  std::string full_backing_file;
  std::string backing_format;
  bool dirty = false;
  std::vector<block::InfoField> specific;
};

ImageFacts facts_of(const block::BlockImage& image, const std::string& filename) {
  ImageFacts facts{.filename = filename,
                   .format = image.format_name(),
                   .virtual_size = image.size(),
                   .actual_size = disk_usage(image.path()),
                   .cluster_size = image.cluster_size(),
                   .backing_file = image.backing_file(),
                   .full_backing_file = {},
                   .backing_format = image.backing_format(),
                   .dirty = image.dirty(),
                   .specific = image.info()};
  facts.full_backing_file = block::resolve_backing_path(image.path(), facts.backing_file);
  return facts;
}

// qemu-img's human keys are its JSON keys with spaces: "lazy-refcounts" / "lazy refcounts".
// Formats may give either spelling.
std::string human_key(std::string key) {
  std::replace(key.begin(), key.end(), '-', ' ');
  return key;
}

std::string json_key(std::string key) {
  std::replace(key.begin(), key.end(), ' ', '-');
  return key;
}

void print_human(const ImageFacts& facts) {
  fmt::print("image: {}\n", facts.filename);
  fmt::print("file format: {}\n", facts.format);
  fmt::print("virtual size: {} ({} bytes)\n", human_size(facts.virtual_size), facts.virtual_size);
  fmt::print("disk size: {}\n", human_size(facts.actual_size));
  if (facts.cluster_size != 0) fmt::print("cluster_size: {}\n", facts.cluster_size);
  if (!facts.backing_file.empty()) {
    fmt::print("backing file: {}", facts.backing_file);
    if (facts.full_backing_file != facts.backing_file) {
      fmt::print(" (actual path: {})", facts.full_backing_file);
    }
    fmt::print("\n");
    if (!facts.backing_format.empty()) {
      fmt::print("backing file format: {}\n", facts.backing_format);
    }
  }
  if (facts.dirty) fmt::print("dirty flag: yes (the image was not closed cleanly)\n");
  if (!facts.specific.empty()) {
    fmt::print("Format specific information:\n");
    for (const block::InfoField& field : facts.specific) {
      fmt::print("    {}: {}\n", human_key(field.key), field.value);
    }
  }
}

Json to_json(const ImageFacts& facts) {
  Json json;
  if (!facts.backing_format.empty()) json["backing-filename-format"] = facts.backing_format;
  json["virtual-size"] = facts.virtual_size;
  json["filename"] = facts.filename;
  if (facts.cluster_size != 0) json["cluster-size"] = facts.cluster_size;
  json["format"] = facts.format;
  json["actual-size"] = facts.actual_size;
  if (!facts.specific.empty()) {
    Json data = Json::object();
    for (const block::InfoField& field : facts.specific) {
      const std::string key = json_key(field.key);
      if (!data.contains(key)) {
        data[key] = typed_value(field.value);
        continue;
      }
      // A repeated key (one per snapshot, say) becomes an array.
      if (!data[key].is_array()) data[key] = Json::array({data[key]});
      data[key].push_back(typed_value(field.value));
    }
    json["format-specific"] = Json{{"type", facts.format}, {"data", data}};
  }
  if (!facts.backing_file.empty()) {
    json["full-backing-filename"] = facts.full_backing_file;
    json["backing-filename"] = facts.backing_file;
  }
  json["dirty-flag"] = facts.dirty;
  return json;
}

Result<int> run_info(const InfoArgs& args) {
  // Without --backing-chain the backing file is not opened: info works even when it is missing.
  CELLA_TRY_ASSIGN(image, open_for_reading(args.filename, args.format, args.force_share,
                                           /*with_backing=*/args.backing_chain));
  std::vector<ImageFacts> chain;
  chain.push_back(facts_of(*image, args.filename));
  if (args.backing_chain) {
    for (block::BlockImage* level = image->backing(); level != nullptr; level = level->backing()) {
      chain.push_back(facts_of(*level, level->path()));
    }
  }
  if (args.output == OutputFormat::kJson) {
    if (!args.backing_chain) {
      print_json(to_json(chain.front()));
      return kExitOk;
    }
    Json array = Json::array();
    for (const ImageFacts& facts : chain) array.push_back(to_json(facts));
    print_json(array);
    return kExitOk;
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    if (i != 0) fmt::print("\n");
    print_human(chain[i]);
  }
  return kExitOk;
}

}  // namespace

void setup_img_info(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<InfoArgs>();
  add_format_option(command, args->format);
  add_output_option(command, args->output);
  command.add_flag("--backing-chain", args->backing_chain,
                   "show every image of the backing chain, top first");
  add_force_share_option(command, args->force_share);
  command.add_option("filename", args->filename, "the image")->type_name("FILE")->required();
  command.callback([args, &exit_code] {
    exit_code = run_reporting("info", kExitFailure, [&] { return run_info(*args); });
  });
}

}  // namespace cella::cli
