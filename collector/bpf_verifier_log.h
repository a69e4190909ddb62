/* bpf_verifier_log.h: why the BPF verifier refused a program, from its log. */
#pragma once

#include <stddef.h>

/* Writes into out (always terminated) the line of the refusal log that says why: the last line
 * before the "processed N insns" summary that is not part of the instruction walk. Says so when
 * the log is empty, has no reason or was cut short (its summary missing). */
void bpf_verifier_log_reason(const char *log, size_t log_size, char *out, size_t size);
