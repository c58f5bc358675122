// The unit tests' main (doctest): every test in tests/unit/ runs without root.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
