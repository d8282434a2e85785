// The demo site (examples/demo-site), compiled into the binary so `sie run` works anywhere.
#pragma once

#include <vector>

#include "config/function_manifest.h"

namespace sie::node {

// site.yaml and functions/*.yaml, with paths like "examples/demo-site/site.yaml".
const std::vector<SourceText>& demoSiteFiles();

}  // namespace sie::node
