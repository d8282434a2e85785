#include "sie/symbol.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sie {
namespace {

TEST(SymbolTest, InternIsIdempotentAndRoundTrips) {
  Symbol a = Symbol::intern("grid/feeder1/voltage");
  Symbol b = Symbol::intern(std::string("grid/feeder1/voltage"));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.str(), "grid/feeder1/voltage");
  EXPECT_NE(a, Symbol::intern("grid/feeder1/frequency"));
  EXPECT_EQ(Symbol::find("grid/feeder1/voltage"), a);
  EXPECT_TRUE(Symbol::find("never-interned-symbol").empty());
  EXPECT_TRUE(Symbol::intern("").empty());
}

TEST(SymbolTest, ConcurrentInternAgrees) {
  std::vector<std::thread> threads;
  std::vector<std::vector<Symbol>> seen(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &seen] {
      for (int i = 0; i < 500; ++i) {
        seen[t].push_back(Symbol::intern("concurrent/" + std::to_string(i)));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < 4; ++t) EXPECT_EQ(seen[t], seen[0]);
  EXPECT_EQ(seen[0][42].str(), "concurrent/42");
}

}  // namespace
}  // namespace sie
