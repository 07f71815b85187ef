// SPDX-License-Identifier: MIT
// A Go program whose socket calls are made by its C code (cgo), as with
// libpq or libcurl: it connects to 127.0.0.1:PORT, sends a message and
// closes, then prints how many bytes went out.
package main

/*
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_to(int port, const char *msg)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int n = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		n = write(fd, msg, strlen(msg));
	if (fd >= 0)
		close(fd);
	return n;
}
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	port, _ := strconv.Atoi(os.Args[1])
	msg := C.CString("hello from cgo\n")
	fmt.Println("sent", C.send_to(C.int(port), msg))
}
