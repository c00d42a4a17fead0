// `cella img check [-f FMT] [--output human|json] [-r leaks|all] [-U] [-q] FILE`
// Exit codes (qemu-img's): 0 clean, 1 the check could not run, 2 corruptions, 3 leaks only.
#include <fmt/format.h>

#include "cli/img_common.h"
#include "cli/img_json.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

constexpr int kExitCorrupt = 2;
constexpr int kExitLeaks = 3;

enum class RepairMode { kNone, kLeaks, kAll };

struct CheckArgs {
  std::string format;
  OutputFormat output = OutputFormat::kHuman;
  RepairMode repair = RepairMode::kNone;
  bool force_share = false;
  bool quiet = false;
  std::string cache;
  std::string filename;
};

int exit_code_of(const block::CheckReport& report) {
  if (report.check_errors != 0) return kExitFailure;
  if (report.corruptions != 0) return kExitCorrupt;
  if (report.leaks != 0) return kExitLeaks;
  return kExitOk;
}

double percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

void print_human(const block::CheckReport& report) {
  if (report.corruptions != 0) {
    fmt::print(
        "\n{} errors were found on the image.\n"
        "Data may be corrupted, or further writes to the image may corrupt it.\n",
        report.corruptions);
  }
  if (report.leaks != 0) {
    fmt::print(
        "\n{} leaked clusters were found on the image.\n"
        "This means waste of disk space, but no harm to data.\n",
        report.leaks);
  }
  if (report.check_errors != 0) {
    fmt::print("\n{} internal errors have occurred during the check.\n", report.check_errors);
  }
  if (exit_code_of(report) == kExitOk) fmt::print("No errors were found on the image.\n");
  if (report.total_clusters != 0) {
    fmt::print("{}/{} = {:.2f}% allocated, {:.2f}% fragmented, {:.2f}% compressed clusters\n",
               report.allocated_clusters, report.total_clusters,
               percent(report.allocated_clusters, report.total_clusters),
               percent(report.fragmented_clusters, report.allocated_clusters),
               percent(report.compressed_clusters, report.allocated_clusters));
  }
  if (report.image_end_offset != 0) {
    fmt::print("Image end offset: {}\n", report.image_end_offset);
  }
}

void print_json_report(const block::CheckReport& report, const CheckArgs& args,
                       const std::string& format) {
  Json json;
  if (report.image_end_offset != 0) json["image-end-offset"] = report.image_end_offset;
  if (report.total_clusters != 0) json["total-clusters"] = report.total_clusters;
  json["check-errors"] = report.check_errors;
  if (report.leaks != 0) json["leaks"] = report.leaks;
  if (report.corruptions != 0) json["corruptions"] = report.corruptions;
  if (report.total_clusters != 0) json["allocated-clusters"] = report.allocated_clusters;
  json["filename"] = args.filename;
  json["format"] = format;
  if (report.leaks_fixed != 0) json["leaks-fixed"] = report.leaks_fixed;
  if (report.corruptions_fixed != 0) json["corruptions-fixed"] = report.corruptions_fixed;
  if (report.total_clusters != 0) {
    json["fragmented-clusters"] = report.fragmented_clusters;
    json["compressed-clusters"] = report.compressed_clusters;
  }
  print_json(json);
}

// The problems the format found, one per line, on stderr (as qemu-img does).
void print_messages(const block::CheckReport& report) {
  for (const std::string& message : report.messages) fmt::print(stderr, "{}\n", message);
}

// Runs the check, repairing as asked. "-r leaks" repairs only when leaks are all there is, so
// corruptions are never touched by it; after a repair the image is checked again and that
// second report decides the exit code.
Result<block::CheckReport> check_and_repair(block::BlockImage& image, const CheckArgs& args) {
  CELLA_TRY_ASSIGN(first, image.check(/*repair=*/false));
  const bool repair =
      (args.repair == RepairMode::kAll && (first.corruptions != 0 || first.leaks != 0)) ||
      (args.repair == RepairMode::kLeaks && first.corruptions == 0 && first.leaks != 0);
  if (!repair) {
    if (args.repair == RepairMode::kLeaks && first.corruptions != 0 && !args.quiet) {
      fmt::print(stderr, "The image has corruptions: -r leaks does not repair them (-r all).\n");
    }
    return first;
  }
  CELLA_TRY_ASSIGN(repaired, image.check(/*repair=*/true));
  if (!args.quiet && args.output == OutputFormat::kHuman) {
    print_messages(repaired);
    fmt::print(
        "The following inconsistencies were found and repaired:\n\n"
        "    {} leaked clusters\n    {} corruptions\n\n"
        "Double checking the fixed image now...\n",
        repaired.leaks_fixed, repaired.corruptions_fixed);
  }
  CELLA_TRY_ASSIGN(after, image.check(/*repair=*/false));
  after.leaks_fixed = repaired.leaks_fixed;
  after.corruptions_fixed = repaired.corruptions_fixed;
  return after;
}

Result<int> run_check(const CheckArgs& args) {
  if (args.repair != RepairMode::kNone && args.force_share) {
    return make_error("-r repairs the image, so it cannot be used with -U (read-only)");
  }
  std::unique_ptr<block::BlockImage> image;
  if (args.repair == RepairMode::kNone) {
    CELLA_TRY_ASSIGN(opened, open_for_reading(args.filename, args.format, args.force_share,
                                              /*with_backing=*/false));
    image = std::move(opened);
  } else {
    block::OpenOptions options;
    options.format = args.format;
    options.open_backing = false;
    CELLA_TRY_ASSIGN(opened, block::open_image(args.filename, options));
    image = std::move(opened);
  }
  CELLA_TRY_ASSIGN(report, check_and_repair(*image, args));
  if (!args.quiet) {
    if (args.output == OutputFormat::kJson) {
      print_messages(report);
      print_json_report(report, args, image->format_name());
    } else {
      print_messages(report);
      print_human(report);
    }
  }
  if (args.repair != RepairMode::kNone) CELLA_TRY(image->flush());
  return exit_code_of(report);
}

}  // namespace

void setup_img_check(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<CheckArgs>();
  add_format_option(command, args->format);
  add_output_option(command, args->output);
  add_choice_option<RepairMode>(command, "-r,--repair", args->repair,
                                {{"leaks", RepairMode::kLeaks}, {"all", RepairMode::kAll}},
                                "repair: leaks (leaked clusters only) or all (corruptions too)");
  add_force_share_option(command, args->force_share);
  add_quiet_option(command, args->quiet);
  add_cache_option(command, "-T", args->cache);
  command.add_option("filename", args->filename, "the image")->type_name("FILE")->required();
  command.footer(
      "Exit codes: 0 no errors, 1 the check could not run, 2 corruptions, 3 leaked clusters.");
  command.callback([args, &exit_code] {
    exit_code = run_reporting("check", kExitFailure, [&] { return run_check(*args); });
  });
}

}  // namespace cella::cli
