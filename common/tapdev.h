/* tapdev.h - opening Linux tap devices the way kvrun's virtio-net uses them.
 *
 * Owns: the one definition of a kvrun tap: IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, a 12-byte virtio-net header in front of every frame
 * (struct virtio_net_hdr_v1: the header with num_buffers that virtio 1.x
 * always uses), non-blocking and close-on-exec. A tap that nobody made
 * persistent is deleted by the kernel when its last file descriptor
 * closes, so a process holding the only fd takes the device with it
 * however it ends. Host-only (the VMM and netsetup/); nothing prints. */
#ifndef KVRUN_TAPDEV_H
#define KVRUN_TAPDEV_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define TAP_VNET_HDR_SIZE 12

/* Open the tap called name in the calling thread's network namespace,
 * creating it (non-persistent) when there is none, and set the header size.
 * With exclusive, any existing device of that name fails with -EBUSY
 * instead of being attached; without, only one that another fd holds does.
 * -EINVAL: name is empty, too long, or names a device that is not a tap
 * with these flags. Returns the fd. */
int tap_open(const char *name, bool exclusive);

/* Check that fd is a tap with IFF_VNET_HDR and IFF_NO_PI, set the header
 * size, make it non-blocking, and give its name (IFNAMSIZ bytes).
 * -ENOTTY: not a tun/tap fd; -EINVAL: a tun, or flags missing;
 * -EBADFD: not attached to a device. */
int tap_check_fd(int fd, char name[IFNAMSIZ]);

/* The MTU of the interface called name in the calling thread's namespace. */
int tap_get_mtu(const char *name, uint32_t *mtu);

#endif
