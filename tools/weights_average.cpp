#include "tools/weights_average.h"

#include <stdexcept>

#include "net/weights_file.h"

namespace dsfn {

Network average_weights(const std::vector<std::string> &paths)
{
    if (paths.size() < 2)
        throw std::invalid_argument("averaging needs two weights files or more");
    Network mean = load_weights(paths[0]);
    torch::NoGradGuard no_grad;
    // The parameters are all a weights file holds (weights_file.h).
    auto sums = mean->named_parameters(true);
    for (size_t i = 1; i < paths.size(); i++) {
        const Network other = load_weights(paths[i]);
        if (!(other->architecture() == mean->architecture()))
            throw std::invalid_argument(paths[i] + ": another architecture than " + paths[0]);
        const auto values = other->named_parameters(true);
        for (auto &item : sums)
            item.value().add_(values[item.key()]);
    }
    for (auto &item : sums)
        item.value().div_(static_cast<double>(paths.size()));
    return mean;
}

} // namespace dsfn
