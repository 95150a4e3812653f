// C shim over <linux/kvm.h> for Swift: ioctl is variadic and the _IO* request macros are not
// imported, so this header exports fixed-argument wrappers and the requests as constants.
#ifndef CKVM_H
#define CKVM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CKVM_REQ(name) static const unsigned long CKVM_##name = name;
CKVM_REQ(KVM_GET_API_VERSION)
CKVM_REQ(KVM_CREATE_VM)
CKVM_REQ(KVM_CHECK_EXTENSION)
CKVM_REQ(KVM_GET_VCPU_MMAP_SIZE)
CKVM_REQ(KVM_GET_SUPPORTED_CPUID)
CKVM_REQ(KVM_GET_MSR_INDEX_LIST)
CKVM_REQ(KVM_CREATE_VCPU)
CKVM_REQ(KVM_SET_USER_MEMORY_REGION)
CKVM_REQ(KVM_SET_TSS_ADDR)
CKVM_REQ(KVM_SET_IDENTITY_MAP_ADDR)
CKVM_REQ(KVM_GET_DIRTY_LOG)
CKVM_REQ(KVM_RUN)
CKVM_REQ(KVM_GET_REGS)
CKVM_REQ(KVM_SET_REGS)
CKVM_REQ(KVM_GET_SREGS)
CKVM_REQ(KVM_SET_SREGS)
CKVM_REQ(KVM_SET_CPUID2)
CKVM_REQ(KVM_INTERRUPT)
CKVM_REQ(KVM_SET_GUEST_DEBUG)
CKVM_REQ(KVM_GET_VCPU_EVENTS)
CKVM_REQ(KVM_SET_VCPU_EVENTS)
CKVM_REQ(KVM_GET_FPU)
CKVM_REQ(KVM_SET_FPU)
CKVM_REQ(KVM_GET_MSRS)
CKVM_REQ(KVM_SET_MSRS)
CKVM_REQ(KVM_GET_DEBUGREGS)
CKVM_REQ(KVM_SET_DEBUGREGS)
CKVM_REQ(KVM_GET_MP_STATE)
CKVM_REQ(KVM_SET_MP_STATE)
CKVM_REQ(KVM_GET_XCRS)
CKVM_REQ(KVM_SET_XCRS)
CKVM_REQ(KVM_TRANSLATE)
CKVM_REQ(KVM_GET_XSAVE)
CKVM_REQ(KVM_SET_XSAVE)
#undef CKVM_REQ

/// ioctl(fd, request) or ioctl(fd, request, arg): returns -1 with errno set on failure.
int ckvm_ioctl(int fd, unsigned long request, unsigned long arg);
int ckvm_ioctl_ptr(int fd, unsigned long request, void *arg);

/// kvm_cpuid2 and kvm_msrs end in flexible arrays, which Swift cannot allocate: these do.
struct kvm_cpuid2 *ckvm_cpuid2_alloc(uint32_t nent);
struct kvm_msr_list *ckvm_msr_list_alloc(uint32_t nmsrs);
struct kvm_msrs *ckvm_msrs_alloc(uint32_t nmsrs);

/// Byte offset of kvm_run's io data (the data lives at run + io.data_offset).
uint8_t *ckvm_run_io_data(struct kvm_run *run);

/// Installs a do-nothing handler for `signo` without SA_RESTART, so a signal sent to the vCPU
/// thread makes KVM_RUN return EINTR (the "kick"), and the handler consumes the signal.
int ckvm_install_kick_handler(int signo);
/// Unblocks SIGINT, SIGTERM, SIGHUP and SIGQUIT for the calling thread (and threads it creates
/// later): a parent that spawned us with them blocked must still be able to stop us.
int ckvm_unblock_termination_signals(void);
/// pthread_kill on the calling thread's id taken earlier (pthread_t is opaque to Swift).
uint64_t ckvm_current_thread(void);
int ckvm_kick_thread(uint64_t thread, int signo);

#endif
