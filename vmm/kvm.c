/* kvm.c - see kvm.h. */
#include "kvm.h"
#include "layout.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_DEV "/dev/kvm"

/* Every capability the VMM needs, and what it is needed for. */
static const struct {
	int cap;
	const char *name;
	const char *why;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "the x86 TSS page" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR", "the identity-map page" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "the guest's CPUID" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "the in-kernel LAPIC/IOAPIC/PIC" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING", "MSI routes for virtio" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD", "device interrupts from the event loop" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "virtio queue notifications" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI", "MSI delivery" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", "starting secondary vCPUs" },
	{ KVM_CAP_XCRS, "KVM_CAP_XCRS", "the guest's initial XCR0" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs without races" },
};

int kvm_open(int *kvm_fd, struct kvm_info *info, struct kv_err *err)
{
	int fd, r, version;

	memset(info, 0, sizeof(*info));
	fd = open(KVM_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return kv_errf(err, r,
				       KVM_DEV
				       " does not exist: this machine has no KVM (enable "
				       "virtualization, load kvm-intel or kvm-amd, or use a VM "
				       "with nested virtualization)");
		if (r == -EACCES || r == -EPERM)
			return kv_errf(err, r,
				       KVM_DEV ": permission denied (run as root or join the group "
					       "that owns " KVM_DEV ", usually \"kvm\")");
		return kv_errno(err, r, "cannot open " KVM_DEV);
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		(void)close(fd);
		return kv_errf(err, -ENOTSUP, KVM_DEV ": KVM API version %d, expected %d", version,
			       KVM_API_VERSION);
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			(void)close(fd);
			return kv_errf(err, -ENOTSUP, "KVM lacks %s (needed for %s)",
				       required_caps[i].name, required_caps[i].why);
		}
	}
	info->vcpu_mmap_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (info->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		r = info->vcpu_mmap_size < 0 ? -errno : -EINVAL;
		(void)close(fd);
		return kv_errno(err, r, "KVM_GET_VCPU_MMAP_SIZE");
	}
	r = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (r <= 0)
		r = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	info->max_vcpus = r > 0 ? (unsigned)r : 4;
	info->tsc_deadline = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	info->immediate_exit = true;
	*kvm_fd = fd;
	return 0;
}

int kvm_create_vm(int kvm_fd, int *vm_fd, struct kv_err *err)
{
	uint64_t idmap = LAYOUT_KVM_IDMAP_GPA;
	int fd, r;

	do {
		fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return kv_errno(err, -errno, "KVM_CREATE_VM");
	/* KVM returns a CLOEXEC fd already (anon inode with O_CLOEXEC). */
	if (ioctl(fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		r = kv_errno(err, -errno, "KVM_SET_IDENTITY_MAP_ADDR");
		goto fail;
	}
	if (ioctl(fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS_GPA) < 0) {
		r = kv_errno(err, -errno, "KVM_SET_TSS_ADDR");
		goto fail;
	}
	*vm_fd = fd;
	return 0;
fail:
	(void)close(fd);
	return r;
}

int kvm_create_irqchip(int vm_fd, bool with_pit, struct kv_err *err)
{
	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kv_errno(err, -errno, "KVM_CREATE_IRQCHIP");
	if (with_pit) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
		if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
			return kv_errno(err, -errno, "KVM_CREATE_PIT2");
	}
	return 0;
}
