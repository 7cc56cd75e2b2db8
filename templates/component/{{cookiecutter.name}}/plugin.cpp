// The plugin module, lib{{cookiecutter.name}}.so: exports the package's descriptor, which the
// kernel checks against its SDK ABI version before it touches anything else.
#include <sluice/plugin.hpp>

#include "{{cookiecutter.name}}.hpp"

// Package name, version and description, then one describe<>() per component of the package:
// a second component goes here too.
SLUICE_PLUGIN("{{cookiecutter.name}}", "{{cookiecutter.version}}", "{{cookiecutter.summary}}",
              sluice::describe<{{cookiecutter.name}}::{{cookiecutter.class_name}}>())
