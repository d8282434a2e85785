// Detection quality of one function on labelled recordings (CSV files with a 0/1 label column per
// row), so any recorded plant data can be replayed through any function. Each file is one asset:
// column C of file F becomes sensor csv/<F>/<C>. The first fit_rows rows of each file calibrate:
// they are recorded (windows fill) and each sensor's mean and standard deviation over them are
// stored in the KV store (fit/<sensor>/mean, fit/<sensor>/std) for functions that normalize per
// asset (spec.model.normalize: fit); they are not scored. Every later row is: all its values are
// recorded, then the function runs on the row's triggering sensors and its decision is compared
// with the row's label.
#pragma once

#include <string>
#include <vector>

#include "config/site_config.h"
#include "eval/function_score.h"
#include "sie/plugins.h"

namespace sie::node {

struct CsvEvalOptions {
  std::vector<std::string> files;
  std::string label = "anomaly";
  std::vector<std::string> ignore = {"changepoint"};  // other columns that are not signals
  std::string time_column;                            // "" = detected
  std::size_t fit_rows = 0;
  std::string function;  // name or name@version, from the site's functions
  std::string scratch_dir;
};

struct CsvEvalResult {
  std::string function;
  FunctionScore total;
  std::vector<FunctionScore> files;  // FunctionScore::function holds the file path
  std::uint64_t rows = 0;            // scored rows
  double median_event_us = 0.0;      // per decision: input fetch, inference, actions
};

// `paths` are files or folders (their *.csv files, sorted).
Result<std::vector<std::string>> listCsvFiles(const std::vector<std::string>& paths);

Result<CsvEvalResult> evaluateOnCsv(const SiteConfig& site, const Plugins& plugins,
                                    const CsvEvalOptions& options);

}  // namespace sie::node
