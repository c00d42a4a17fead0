// Helpers shared by the formats with backing (parent) images: reading and mapping the part of
// a disk that falls through to the parent, and building `map` results.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "block/block_image.h"

namespace cella::block {

// Reads what the parent holds at [offset, offset + out.size()): zeros beyond the parent's end,
// and everywhere when there is no parent.
Result<void> read_from_backing(BlockImage* backing, uint64_t offset, std::span<uint8_t> out);

// Appends the map of [offset, offset + length) as the parent reports it, one level deeper;
// zeros beyond the parent's end, or for the whole range when there is no parent.
Result<void> map_from_backing(BlockImage* backing, uint64_t offset, uint64_t length,
                              std::vector<Extent>& out);

// The folder of a file path ("." for a bare name), and a name recorded in an image resolved
// against the folder of that image (absolute names are kept).
std::string folder_of(const std::string& path);
std::string path_beside(const std::string& image_path, const std::string& name);

// Appends an extent, merging it into the last one when they continue each other (same kind,
// depth and file, contiguous in the disk and in the file).
void append_merged(std::vector<Extent>& out, Extent extent);

}  // namespace cella::block
