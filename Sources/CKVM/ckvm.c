#include "ckvm.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

int ckvm_ioctl(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }

int ckvm_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }

struct kvm_cpuid2 *ckvm_cpuid2_alloc(uint32_t nent) {
  struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));
  if (c) c->nent = nent;
  return c;
}

struct kvm_msr_list *ckvm_msr_list_alloc(uint32_t nmsrs) {
  struct kvm_msr_list *l = calloc(1, sizeof(*l) + nmsrs * sizeof(uint32_t));
  if (l) l->nmsrs = nmsrs;
  return l;
}

struct kvm_msrs *ckvm_msrs_alloc(uint32_t nmsrs) {
  struct kvm_msrs *m = calloc(1, sizeof(*m) + nmsrs * sizeof(struct kvm_msr_entry));
  if (m) m->nmsrs = nmsrs;
  return m;
}

uint8_t *ckvm_run_io_data(struct kvm_run *run) { return (uint8_t *)run + run->io.data_offset; }

static void ckvm_kick_handler(int signo) { (void)signo; }

int ckvm_install_kick_handler(int signo) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = ckvm_kick_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
  if (sigaction(signo, &sa, NULL) != 0) return -1;
  // A parent may have spawned us with the signal blocked (posix_spawn inherits the mask):
  // a blocked kick would never interrupt KVM_RUN.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signo);
  return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int ckvm_unblock_termination_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGQUIT);
  return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

uint64_t ckvm_current_thread(void) { return (uint64_t)pthread_self(); }

int ckvm_kick_thread(uint64_t thread, int signo) { return pthread_kill((pthread_t)thread, signo); }
