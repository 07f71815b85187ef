// SPDX-License-Identifier: MIT
// A Go program that makes its socket calls itself (package net): dynamic
// (the net package links libc for name lookups) but with no libc socket
// call that LD_PRELOAD could see.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	c, err := net.Dial("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	n, _ := c.Write([]byte("hello from go\n"))
	c.Close()
	fmt.Println("sent", n)
}
