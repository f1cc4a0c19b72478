// FmtWriter: nfdump's `-o fmt:...` layouts, and `long` and `extended`, which nfdump defines as
// fmt layouts. Tokens are nfdump's (%ts %te %td %pr %sa %da %sap %dap %sp %dp %pkt %byt %fl
// %ipkt %opkt %ibyt %obyt %flg %tos %stos %dtos %bps %pps %bpp %in %out %sas %das %smk %dmk
// %ra %nh), plus %{FIELD} for any registry field (%{tls_sni}, %{ttl_rev}); other text is
// copied. Each column is aligned to its title's width, with a header line of titles.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/flow_sink.h"
#include "core/result.h"
#include "export/field_format.h"
#include "export/text_output.h"

namespace flowkit::exporter {

class FmtWriter : public FlowSink {
 public:
  // `format`: "fmt:...", "long" or "extended". kInvalidArgument naming an unknown token.
  static Result<std::unique_ptr<FmtWriter>> open(TextOutput& out, std::string_view format,
                                                 bool bare);
  ~FmtWriter() override;
  void write(std::span<const FlowRecord> records) override;
  Status flush() override;
  // The columns its layout prints beyond nfdump's line (addresses, ports, protocol, ICMP type
  // and code, flows, and both directions' packets, bytes, first and last), appended to out.
  void inputs(std::vector<flowkit::Column>& out) const;

 private:
  struct Column {
    std::string text;  // literal text before the value
    std::string title;
    int width = 0;  // negative: left-aligned
    void (*put)(TextOutput&, const FlowRecord&) = nullptr;
    const FieldInfo* field = nullptr;  // %{FIELD}
    Direction dir = Direction::kForward;
    PutField put_field = nullptr;
    std::optional<FieldId> reads;  // a token's field beyond the line's
  };

  FmtWriter(TextOutput& out, bool bare) : out_(out), bare_(bare) {}

  TextOutput& out_;
  bool bare_;
  std::vector<Column> columns_;
  uint64_t flows_ = 0, packets_ = 0, bytes_ = 0;
  Timestamp first_{INT64_MAX}, last_{INT64_MIN};
};

// Whether a -o value is one of FmtWriter's.
bool is_fmt_format(std::string_view format);
// FmtWriter::inputs() of a layout; kInvalidArgument as open() gives it.
Status fmt_inputs(std::string_view format, std::vector<flowkit::Column>& out);

}  // namespace flowkit::exporter
