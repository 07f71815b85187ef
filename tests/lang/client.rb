# SPDX-License-Identifier: MIT
# Sends a line to 127.0.0.1:PORT and prints the answer.
require "socket"

s = TCPSocket.new("127.0.0.1", ARGV[0].to_i)
s.write("from ruby\n")
puts s.gets
s.close
