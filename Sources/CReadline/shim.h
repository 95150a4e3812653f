// System library shim: GNU readline for the REPL (line editing, history, completion).
// Readline's settings are C globals; Swift 6 refuses to touch shared mutable C state directly,
// so the few the REPL needs are set through these functions (called on the main thread only).
#include <stdio.h>
#include <signal.h>
#include <readline/readline.h>
#include <readline/history.h>

#include <string.h>

// The strings are copied: readline keeps the pointers.
static inline void crl_configure(const char *name, rl_completion_func_t *completer, const char *wordBreaks) {
  rl_readline_name = strdup(name);
  rl_attempted_completion_function = completer;
  rl_completer_word_break_characters = strdup(wordBreaks);
  // The REPL handles SIGINT itself (it cancels the line or stops a running command).
  rl_catch_signals = 0;
}

/// Called from the completion function: no file-name completion when nothing matches.
static inline void crl_completion_over(void) { rl_attempted_completion_over = 1; }

static inline const char *crl_line_buffer(void) { return rl_line_buffer; }

/// After Ctrl-C at the prompt: drop the partial line and leave readline's callback mode.
static inline void crl_cancel_line(void) {
  rl_echo_signal_char(SIGINT);
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_cleanup_after_signal();
  rl_callback_handler_remove();
}
