/* pvpanic.c - see pvpanic.h. The pvpanic PCI device's BAR and registration. */
#include "pvpanic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci.h"
#include "vm.h"

#define PVPANIC_BAR_SIZE 0x1000

struct pvpanic {
	struct pci_dev pci; /* first: the destroy hook casts back */
	struct vmm *vm;
};

static void bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
	if (off == 0)
		*(uint8_t *)data = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pvpanic *p = opaque;

	if (off == 0 && (*(const uint8_t *)data & PVPANIC_PANICKED))
		vm_request_exit(p->vm, VMM_EXIT_PANIC);
}

static const struct io_ops bar_ops = { .read = bar_read, .write = bar_write };

static void destroy(struct pci_dev *d)
{
	pci_dev_fini(d);
	free(d);
}

static const struct pci_dev_ops pvpanic_ops = { .destroy = destroy };

int pvpanic_add(struct vmm *vm, struct kv_err *err)
{
	struct pvpanic *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return kv_errno(err, -ENOMEM, "pvpanic: allocating");
	r = pci_dev_init(&p->pci, PVPANIC_VENDOR, PVPANIC_DEVICE, 0x088000, 1, PVPANIC_VENDOR,
			 PVPANIC_DEVICE);
	if (r < 0) {
		free(p);
		return kv_errno(err, r, "pvpanic: PCI header");
	}
	p->vm = vm;
	p->pci.ops = &pvpanic_ops;
	r = pci_dev_add_bar(&p->pci, 0, PCI_BAR_MEM32, PVPANIC_BAR_SIZE, &bar_ops, p);
	if (r < 0)
		kv_errno(err, r, "pvpanic: BAR");
	else
		r = pci_register(vm->pci, &p->pci, err);
	if (r < 0) {
		destroy(&p->pci);
		return r;
	}
	return 0;
}
