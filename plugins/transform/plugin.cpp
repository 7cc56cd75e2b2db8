#include <sluice/plugin.hpp>

#include "transform.hpp"

using namespace sluice::transform;

SLUICE_PLUGIN("transform", "1.0.0", "Transformers and extractors for fields",
              sluice::describe<SetField>(), sluice::describe<CopyField>(),
              sluice::describe<RenameField>(), sluice::describe<DeleteField>(),
              sluice::describe<Case>(), sluice::describe<Trim>(), sluice::describe<Template>(),
              sluice::describe<Hash>(), sluice::describe<JsonParse>(),
              sluice::describe<DateNormalize>(), sluice::describe<RegexExtract>(),
              sluice::describe<Email>(), sluice::describe<Url>(), sluice::describe<Address>())
