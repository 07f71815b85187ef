// SPDX-License-Identifier: MIT
// Sends a line to 127.0.0.1:PORT and prints the answer.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;

public class Client {
	public static void main(String[] args) throws Exception {
		try (Socket s = new Socket("127.0.0.1", Integer.parseInt(args[0]))) {
			OutputStream out = s.getOutputStream();
			out.write("from java\n".getBytes());
			out.flush();
			BufferedReader in = new BufferedReader(
				new InputStreamReader(s.getInputStream()));
			System.out.println(in.readLine());
		}
	}
}
