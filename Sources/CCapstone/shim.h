// System library shim: the capstone disassembler for the REPL's disassembly. The fixed-size
// char arrays of cs_insn import into Swift as tuples; these accessors hand out C strings.
#include <capstone/capstone.h>

static inline const cs_insn *ccs_instruction(const cs_insn *first, size_t index) { return first + index; }
static inline const char *ccs_mnemonic(const cs_insn *insn) { return insn->mnemonic; }
static inline const char *ccs_operands(const cs_insn *insn) { return insn->op_str; }
static inline int ccs_is_call(const cs_insn *insn) { return insn->id == X86_INS_CALL || insn->id == X86_INS_LCALL; }
static inline int ccs_is_return(const cs_insn *insn) { return insn->id == X86_INS_RET; }
