/* tapdev.c - tap devices with a virtio-net header: see tapdev.h.
 *
 * Owns: the TUNSETIFF / TUNGETIFF / TUNSETVNETHDRSZ calls and the MTU
 * query. */
#include "tapdev.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

static int set_hdr_size(int fd)
{
	int sz = TAP_VNET_HDR_SIZE;

	return ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0 ? -errno : 0;
}

int tap_open(const char *name, bool exclusive)
{
	struct ifreq ifr = { 0 };
	int r;

	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	cleanup_close int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = TAP_FLAGS | (exclusive ? IFF_TUN_EXCL : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	if ((r = set_hdr_size(fd)) < 0)
		return r;
	return steal_fd(&fd);
}

int tap_check_fd(int fd, char name[IFNAMSIZ])
{
	struct ifreq ifr = { 0 };
	int fl;

	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno == EINVAL ? -ENOTTY : -errno;
	if ((ifr.ifr_flags & (IFF_TAP | IFF_TUN | IFF_NO_PI | IFF_VNET_HDR)) != TAP_FLAGS)
		return -EINVAL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	int r = set_hdr_size(fd);
	if (r < 0)
		return r;
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return 0;
}

int tap_get_mtu(const char *name, uint32_t *mtu)
{
	struct ifreq ifr = { 0 };

	if (!name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
		return -errno;
	*mtu = (uint32_t)ifr.ifr_mtu;
	return 0;
}
