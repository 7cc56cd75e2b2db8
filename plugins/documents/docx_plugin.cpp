#include <sluice/plugin.hpp>

#include "docx_adapter.hpp"

SLUICE_PLUGIN("documents-docx", "1.0.0", "Word 2007+ documents: text and core properties (libzip, pugixml)",
              sluice::describe<sluice::documents::DocxAdapter>())
