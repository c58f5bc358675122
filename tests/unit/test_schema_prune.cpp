// The schema pruner (src/spec/schema_prune.cpp): the embedded config schema uses only what it
// follows, anything else is refused by name, and pruning keeps what the instance needs.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "ocirt/error.hpp"
#include "ocirt/spec.hpp"
#include "src/spec/schema_prune.hpp"

namespace ocirt::schemas {
extern const std::string_view config_schema;
}

namespace {

std::string check(const char* schema) {
  rapidjson::Document d;
  d.Parse(schema);
  REQUIRE_FALSE(d.HasParseError());
  return ocirt::spec::unprunable(d);
}

}  // namespace

TEST_CASE("schema pruner: the embedded config schema uses only what the pruner follows") {
  rapidjson::Document d;
  d.Parse(ocirt::schemas::config_schema.data(), ocirt::schemas::config_schema.size());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(ocirt::spec::unprunable(d) == "");
}

TEST_CASE("schema pruner: constructs it cannot prune safely are refused, by place") {
  CHECK(check(R"({"type": "object", "properties": {"a": {"type": "string", "minLength": 1}},
                  "additionalProperties": false, "required": ["a"]})") == "");
  CHECK(check(R"({"properties": {"a": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}})") ==
        R"(properties.a.oneOf: the pruner cannot follow "oneOf")");
  CHECK(check(R"({"properties": {"a": {"anyOf": [{"type": "string"}]}}})") ==
        R"(properties.a.anyOf: the pruner cannot follow "anyOf")");
  CHECK(check(R"({"definitions": {"X": {"allOf": [{"$ref": "#/definitions/Y"}]}, "Y": {}}})") ==
        R"(definitions.X.allOf: the pruner cannot follow "allOf")");
  CHECK(check(R"({"not": {"type": "null"}})") == R"(not: the pruner cannot follow "not")");
  CHECK(check(R"({"if": {}, "then": {}})") == R"(if: the pruner cannot follow "if")");
  CHECK(check(R"({"patternProperties": {"^x": {"type": "object"}}})") ==
        R"(patternProperties: the pruner cannot follow "patternProperties")");
  CHECK(check(R"({"properties": {"l": {"items": [{"type": "object"}]}}})") ==
        "properties.l.items: items as a list: the pruner follows one items schema only");
  CHECK(check(R"({"properties": {"a": {"$ref": "other.json#/x"}}})") ==
        R"(properties.a.$ref: the pruner follows only "#/definitions/NAME" to an existing definition)");
  CHECK(check(R"({"properties": {"a": {"$ref": "#/definitions/Missing"}}, "definitions": {}})") ==
        R"(properties.a.$ref: the pruner follows only "#/definitions/NAME" to an existing definition)");
  CHECK(check(R"({"properties": {"a": {"dependencies": {}}}})") ==
        R"(properties.a.dependencies: the pruner cannot follow "dependencies")");
  CHECK(check(R"({"definitions": {"D": {"definitions": {}}}})") ==
        R"(definitions.D.definitions: the pruner cannot follow "definitions")");
  // $ref cycles, direct or through properties
  CHECK(check(R"({"definitions": {"A": {"$ref": "#/definitions/B"}, "B": {"$ref": "#/definitions/A"}}})") ==
        "definitions.A: a $ref cycle (A -> B -> A)");
  CHECK(check(R"({"definitions": {"Node": {"properties": {"next": {"$ref": "#/definitions/Node"}}}}})") ==
        "definitions.Node: a $ref cycle (Node -> Node)");
  // a shared definition reached twice is not a cycle; enum values are data, not schemas
  CHECK(check(R"({"definitions": {"S": {"type": "string"}, "P": {"properties": {"a": {"$ref": "#/definitions/S"},
                  "b": {"$ref": "#/definitions/S"}}}}, "properties": {"p": {"$ref": "#/definitions/P"},
                  "e": {"enum": [{"oneOf": 1}]}}})") == "");
}

TEST_CASE("schema pruner: a pruned schema keeps what the instance reaches, drops the rest") {
  rapidjson::Document schema, inst;
  schema.Parse(R"({"type": "object",
    "properties": {"a": {"$ref": "#/definitions/A"}, "b": {"$ref": "#/definitions/B"}, "c": {"type": "string"}},
    "definitions": {"A": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}},
                    "B": {"type": "string"}}})");
  inst.Parse(R"({"a": {"x": 1}, "c": "s"})");
  REQUIRE(ocirt::spec::prune_schema(schema, inst));
  CHECK(schema["properties"].HasMember("a"));
  CHECK(schema["properties"].HasMember("c"));
  CHECK_FALSE(schema["properties"].HasMember("b"));
  CHECK(schema["definitions"].HasMember("A"));
  CHECK_FALSE(schema["definitions"].HasMember("B"));  // nothing left refers to it
  CHECK(schema["definitions"]["A"]["properties"].HasMember("x"));
  CHECK_FALSE(schema["definitions"]["A"]["properties"].HasMember("y"));
  // a $ref the walk cannot resolve: it gives up (the whole schema is then used)
  rapidjson::Document bad;
  bad.Parse(R"({"properties": {"a": {"$ref": "#/nowhere"}}})");
  CHECK_FALSE(ocirt::spec::prune_schema(bad, inst));
  // and validation through the pruned schema still refuses what it must, by path
  try {
    ocirt::spec::load(R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "mounts": [{"destination": "/m", "type": 7}]})");
    FAIL("not refused");
  } catch (const ocirt::Error& e) {
    CHECK(std::string(e.what()) == "mounts[0].type: must be of type string, not integer");
  }
}
