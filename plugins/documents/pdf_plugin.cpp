#include <sluice/plugin.hpp>

#include "pdf_adapter.hpp"

SLUICE_PLUGIN("documents-pdf", "1.0.0", "PDF documents: text and information (poppler)",
              sluice::describe<sluice::documents::PdfAdapter>())
