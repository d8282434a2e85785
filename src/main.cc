#include "cli/cli.h"

int main(int argc, char** argv) { return sie::cli::main(argc, argv); }
