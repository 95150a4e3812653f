import Foundation

/// What each test guest prints on COM1 and its exit status (guests/README.md).
struct GuestExpectation: Sendable, CustomStringConvertible {
  var name: String
  var input: String?
  var output: String
  var status: Int32
  var description: String { name }
}

let guestExpectations: [GuestExpectation] = [
  GuestExpectation(name: "hello", output: "Hello from Retrovisor guest\n", status: 1),
  GuestExpectation(
    name: "ticks", output: "tick 10\ntick 20\ntick 30\ntick 40\ntick 50\nticks done\n", status: 1),
  GuestExpectation(name: "spin", output: "spin start\nspin waited 20 ticks\n", status: 1),
  GuestExpectation(
    name: "echo", input: "hello\nworld\nquit\n", output: "echo ready\necho: hello\necho: world\nbye\n", status: 1),
  GuestExpectation(name: "long64", output: "long mode: on\nlong64 ticks 10\n", status: 1),
  GuestExpectation(
    name: "corrupt",
    output: """
      corrupt: building list
      corrupt: list has 6 nodes
      corrupt: scratch checksum 0x33333333
      corrupt: waiting 5 ticks
      corrupt: fib(30) = 832040
      corrupt: checking list
      list check: node 3 corrupted (magic=0xdeadbeef)
      PANIC: corrupted list

      """, status: 7),
]
