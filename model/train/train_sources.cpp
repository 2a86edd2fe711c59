// The training data's sources on disk (train_data.h): PPM photos and clips of
// PPM frames, listed in a stable order so that batches are reproducible.
#include "train/train_data.h"

#include <dirent.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace dsfn {

torch::Tensor read_ppm(const std::string &path)
{
    return read_ppm_bytes(path).to(torch::kFloat).div_(255.0f);
}

torch::Tensor read_ppm_bytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::string magic;
    int64_t w = 0, h = 0, maxval = 0;
    in >> magic >> w >> h >> maxval;
    in.get(); // the single whitespace before the pixels
    if (!in || magic != "P6" || w < 1 || h < 1 || maxval != 255)
        throw std::runtime_error(path + ": not an 8-bit binary PPM");
    auto pixels = torch::empty({h, w, 3}, torch::kUInt8);
    in.read(reinterpret_cast<char *>(pixels.data_ptr()), h * w * 3);
    if (in.gcount() != h * w * 3)
        throw std::runtime_error(path + ": truncated PPM");
    return pixels.permute({2, 0, 1}).contiguous();
}

namespace {

// Names in dir (sorted: a stable order keeps batches reproducible) that end in
// suffix, or that are directories when suffix is empty.
std::vector<std::string> list_dir(const std::string &dir, const std::string &suffix)
{
    std::vector<std::string> names;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            const std::string name = e->d_name;
            if (name == "." || name == "..")
                continue;
            const bool match = suffix.empty() ? std::filesystem::is_directory(dir + "/" + name)
                                              : name.size() > suffix.size() && name.compare(name.size() - suffix.size(),
                                                                                            suffix.size(), suffix) == 0;
            if (match)
                names.push_back(name);
        }
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

PhotoSet::PhotoSet(const std::string &dir)
{
    for (const auto &name : list_dir(dir, ".ppm"))
        add(read_ppm(dir + "/" + name));
    if (photos_.empty())
        throw std::runtime_error(dir + ": no .ppm photos (run scripts/train/fetch-training-photos.sh)");
}

PhotoSet::PhotoSet(std::vector<torch::Tensor> photos)
{
    for (auto &photo : photos)
        add(std::move(photo));
}

void PhotoSet::add(torch::Tensor photo)
{
    torch::NoGradGuard no_grad;
    std::array<torch::Tensor, levels> pyramid{photo};
    for (int k = 1; k < levels; k++) { // means of 2x2 blocks: little aliasing, no overshoot
        const auto &up = pyramid[k - 1];
        pyramid[k] = up.size(1) < 2 || up.size(2) < 2 ? up : torch::avg_pool2d(up.unsqueeze(0), 2).squeeze(0);
    }
    photos_.push_back(std::move(pyramid));
}

ClipSet::ClipSet(std::vector<torch::Tensor> clips) : clips_(std::move(clips))
{
    for (size_t i = 0; i < clips_.size(); i++)
        names_.push_back("clip " + std::to_string(i));
}

ClipSet::ClipSet(const std::string &dir)
{
    for (const auto &clip : list_dir(dir, "")) {
        std::vector<torch::Tensor> frames;
        for (const auto &name : list_dir(dir + "/" + clip, ".ppm"))
            frames.push_back(read_ppm_bytes(dir + "/" + clip + "/" + name));
        if (frames.empty())
            continue;
        for (const auto &f : frames)
            if (f.sizes() != frames[0].sizes())
                throw std::runtime_error(dir + "/" + clip + ": frames of different sizes");
        clips_.push_back(torch::stack(frames));
        names_.push_back(clip);
    }
}

} // namespace dsfn
