// The password policy of portal accounts: at least 10 characters, with letters (any alphabet) and
// digits. The portal enforces it (PASSWORD_WEAK carries minLength); the workstation checks the same
// rule before sending, for the hint.

export const PASSWORD_MIN_LENGTH = 10

export type PasswordProblem = 'tooShort' | 'noLetter' | 'noDigit'

export function passwordProblems(password: string, minLength: number = PASSWORD_MIN_LENGTH): PasswordProblem[] {
  const problems: PasswordProblem[] = []
  if ([...password].length < minLength) problems.push('tooShort')
  if (!/\p{L}/u.test(password)) problems.push('noLetter')
  if (!/\p{Nd}/u.test(password)) problems.push('noDigit')
  return problems
}
