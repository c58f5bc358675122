// The config schema's pruner: the embedded schema cut down to what one instance can reach
// before RapidJSON compiles it, and the check that a schema uses only what the pruner follows.
#pragma once

#include <rapidjson/document.h>

#include <string>

namespace ocirt::spec {

// Cuts `schema` down for `instance` (see schema_prune.cpp). false: it could not (a $ref it
// cannot resolve, nesting deeper than it follows), and `schema` may be half cut: parse it again.
bool prune_schema(rapidjson::Document& schema, const rapidjson::Value& instance);

// "" when every construct of `schema` is one the pruner follows safely; else the first that is
// not, by its place in the schema: oneOf/anyOf/allOf/not, if/then/else, patternProperties,
// items as a list, a $ref other than "#/definitions/NAME" or to nothing, a $ref cycle, any
// keyword it does not know. A unit test holds the embedded schema to it.
std::string unprunable(const rapidjson::Value& schema);

}  // namespace ocirt::spec
