#include "core/yaml_documents.h"

#include <gtest/gtest.h>

namespace sie {
namespace {

// The documents that hold something, as `sie deploy -f` sends them.
std::vector<YamlDocument> withContent(std::string_view text) {
  auto docs = splitYamlDocuments(text);
  std::erase_if(docs, [](const YamlDocument& doc) { return !hasYamlContent(doc.text); });
  return docs;
}

TEST(YamlDocumentsTest, OneDocumentWithoutMarker) {
  const auto docs = splitYamlDocuments("kind: Function\nmetadata: {name: a}\n");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].text, "kind: Function\nmetadata: {name: a}\n");
  EXPECT_EQ(docs[0].first_line, 1);
}

TEST(YamlDocumentsTest, SplitsAtMarkersAndCountsLines) {
  const auto docs = withContent("---\na: 1\n---\nb: 2\nc: 3\n---\nd: 4");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].text, "a: 1\n");
  EXPECT_EQ(docs[0].first_line, 2);
  EXPECT_EQ(docs[1].text, "b: 2\nc: 3\n");
  EXPECT_EQ(docs[1].first_line, 4);
  EXPECT_EQ(docs[2].text, "d: 4\n");  // the last line had no newline
  EXPECT_EQ(docs[2].first_line, 7);
}

TEST(YamlDocumentsTest, EmptyAndCommentOnlyDocumentsHaveNoContent) {
  const auto all = splitYamlDocuments("# header\n\n---\n---\n  # nothing\n---\na: 1\n---\n...\n");
  EXPECT_EQ(all.size(), 5u);  // every document is kept
  const auto docs = withContent("# header\n\n---\n---\n  # nothing\n---\na: 1\n---\n...\n");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].text, "a: 1\n");
  EXPECT_EQ(docs[0].first_line, 7);
}

// A comment or content after the marker is part of the document, on the marker's own line: the
// node and the CLI both split "--- # note" (the CLI once did not, and sent two documents as one).
TEST(YamlDocumentsTest, WhatFollowsTheMarkerStaysOnItsLine) {
  const auto docs = withContent("a: 1\n--- # the second pump\nb: 2\n--- {c: 3}\n--- # empty\n");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[1].text, " # the second pump\nb: 2\n");
  EXPECT_EQ(docs[1].first_line, 2);
  EXPECT_EQ(docs[2].text, " {c: 3}\n");
  EXPECT_EQ(docs[2].first_line, 4);
}

TEST(YamlDocumentsTest, TheMarkerStartsTheLine) {
  // CRLF and trailing blanks still split; text glued to the dashes or indentation does not.
  const auto docs = withContent("a: 1\r\n---\r\nb: 2\n---  \nc: \"---\"\n  ---\n----\n---x\n");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].text, "a: 1\r\n");
  EXPECT_EQ(docs[1].text, "b: 2\n");
  EXPECT_EQ(docs[2].text, "c: \"---\"\n  ---\n----\n---x\n");
  EXPECT_EQ(docs[2].first_line, 5);
}

TEST(YamlDocumentsTest, EmptyInput) { EXPECT_TRUE(splitYamlDocuments("").empty()); }

}  // namespace
}  // namespace sie
