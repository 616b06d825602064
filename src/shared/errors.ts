// The one error catalogue of the product. Every failure a user can meet has a stable code,
// a Russian title and message, and what to do. Technical detail (CKR names, dlerror text,
// stack traces) goes to `details` for the log and is never rendered.
// No zod here: the token worker imports this file and must start fast; the wire schemas of
// these types are in error-schemas.ts.

export interface ErrorText {
  /** Short headline shown in bold. */
  title: string
  /** What happened, in plain Russian. May contain {placeholders} filled from params. */
  message: string
  /** What the user should do next. */
  action: string
}

export const ERRORS = {
  // --- token drivers (PKCS#11 libraries) ---
  TOKEN_LIBRARY_NOT_FOUND: {
    title: 'Не найден драйвер токена',
    message: 'Библиотека PKCS#11 не найдена: {path}.',
    action: 'Установите драйвер токена (Рутокен, JaCarta и др.) или укажите путь к библиотеке в настройках. Обратитесь к администратору.',
  },
  TOKEN_LIBRARY_WRONG_ARCH: {
    title: 'Драйвер токена не подходит',
    message: 'Библиотека {path} собрана для другой разрядности или платформы.',
    action: 'Установите 64-разрядную версию драйвера токена для этой системы.',
  },
  TOKEN_LIBRARY_LOAD_FAILED: {
    title: 'Драйвер токена не загружается',
    message: 'Не удалось загрузить библиотеку {path}.',
    action: 'Переустановите драйвер токена. Если ошибка повторяется, обратитесь к администратору.',
  },
  TOKEN_LIBRARY_INIT_FAILED: {
    title: 'Драйвер токена не запустился',
    message: 'Библиотека {path} загружена, но не инициализировалась.',
    action: 'Переподключите токен и перезапустите службу смарт-карт. Если не помогло — обратитесь к администратору.',
  },
  NO_TOKEN_LIBRARIES: {
    title: 'Драйверы токенов не найдены',
    message: 'Ни одна библиотека PKCS#11 из списка не найдена на этом компьютере.',
    action: 'Установите драйвер вашего токена или укажите путь к нему в настройках.',
  },
  // --- tokens and certificates ---
  TOKEN_NOT_PRESENT: {
    title: 'Смарт-карта не найдена',
    message: 'Токен или смарт-карта не подключены.',
    action: 'Вставьте токен в USB-порт и подождите несколько секунд.',
  },
  TOKEN_REMOVED: {
    title: 'Токен извлечён',
    message: 'Токен был извлечён во время операции. Операция прервана, данные не изменены.',
    action: 'Вставьте токен снова и повторите действие.',
  },
  TOKEN_ERROR: {
    title: 'Ошибка токена',
    message: 'Токен сообщил об ошибке при выполнении операции.',
    action: 'Переподключите токен и повторите. Если ошибка повторяется, обратитесь к администратору.',
  },
  CERTIFICATE_NOT_FOUND: {
    title: 'Сертификат не найден',
    message: 'Выбранный сертификат не найден на подключённых токенах.',
    action: 'Проверьте, что вставлен нужный токен, и выберите сертификат из списка.',
  },
  PRIVATE_KEY_NOT_FOUND: {
    title: 'Нет закрытого ключа',
    message: 'Для сертификата на токене нет закрытого ключа — им нельзя подписать.',
    action: 'Выберите другой сертификат или обратитесь в удостоверяющий центр.',
  },
  MECHANISM_NOT_SUPPORTED: {
    title: 'Алгоритм не поддерживается',
    message: 'Токен не поддерживает алгоритм подписи этого сертификата ({algorithm}).',
    action: 'Обновите драйвер токена или используйте другой сертификат.',
  },
  // --- PIN ---
  PIN_INCORRECT: {
    title: 'Неверный PIN-код',
    message: 'Введён неверный PIN-код.',
    action: 'Проверьте раскладку клавиатуры и Caps Lock и введите PIN-код ещё раз.',
  },
  PIN_INVALID: {
    title: 'Недопустимый PIN-код',
    message: 'PIN-код содержит недопустимые символы или имеет неверную длину.',
    action: 'Введите PIN-код токена (обычно от 4 до 16 символов).',
  },
  PIN_LOCKED: {
    title: 'PIN-код заблокирован',
    message: 'PIN-код заблокирован после нескольких неверных попыток.',
    action: 'Разблокировать токен может администратор (PIN-кодом администратора) или удостоверяющий центр. Повторный ввод PIN-кода невозможен.',
  },
  PIN_EXPIRED: {
    title: 'Срок действия PIN-кода истёк',
    message: 'PIN-код токена необходимо сменить.',
    action: 'Смените PIN-код в программе управления токеном и войдите снова.',
  },
  // --- certificate checks (local and on the portal) ---
  CERT_EXPIRED: {
    title: 'Срок действия сертификата истёк',
    message: 'Сертификат действовал до {notAfter}.',
    action: 'Получите новый сертификат в удостоверяющем центре.',
  },
  CERT_NOT_YET_VALID: {
    title: 'Сертификат ещё не действует',
    message: 'Сертификат начнёт действовать {notBefore}.',
    action: 'Дождитесь начала срока действия или проверьте дату и время на компьютере.',
  },
  CERT_REVOKED: {
    title: 'Сертификат отозван',
    message: 'Удостоверяющий центр отозвал этот сертификат.',
    action: 'Обратитесь в удостоверяющий центр за новым сертификатом.',
  },
  CERT_UNTRUSTED: {
    title: 'Недоверенный издатель',
    message: 'Сертификат выдан удостоверяющим центром, которому портал не доверяет.',
    action: 'Используйте квалифицированный сертификат аккредитованного удостоверяющего центра.',
  },
  CERT_KEY_USAGE: {
    title: 'Сертификат не предназначен для подписи',
    message: 'Назначение ключа сертификата не допускает электронную подпись.',
    action: 'Выберите сертификат для электронной подписи.',
  },
  CERT_NO_SNILS: {
    title: 'В сертификате нет СНИЛС',
    message: 'В сертификате не указан СНИЛС владельца, вход по нему невозможен.',
    action: 'Выберите сертификат физического лица со СНИЛС или обратитесь в удостоверяющий центр.',
  },
  WORKER_NOT_REGISTERED: {
    title: 'Недостаточные права доступа',
    message: 'Владелец сертификата не найден в регистре медицинских работников.',
    action: 'Обратитесь к кадровой службе вашей организации для внесения сведений в ФРМР.',
  },
  WORKER_EMPLOYMENT_ENDED: {
    title: 'Недостаточные права доступа',
    message: 'В регистре медицинских работников нет действующей записи о работе владельца сертификата.',
    action: 'Обратитесь к кадровой службе вашей организации.',
  },
  SIGNATURE_INVALID: {
    title: 'Подпись не прошла проверку',
    message: 'Электронная подпись неверна: подписанные данные изменены или подпись повреждена.',
    action: 'Повторите операцию. Если ошибка повторяется, обратитесь к администратору.',
  },
  CHALLENGE_EXPIRED: {
    title: 'Время на вход истекло',
    message: 'Запрос на вход устарел или уже был использован.',
    action: 'Повторите вход.',
  },
  CLOCK_SKEW: {
    title: 'Неверное время на компьютере',
    message: 'Время на компьютере отличается от времени портала на {skew}.',
    action: 'Исправьте дату, время и часовой пояс компьютера (или попросите администратора включить синхронизацию времени) и повторите вход.',
  },
  // --- portal ---
  PORTAL_UNREACHABLE: {
    title: 'Портал недоступен',
    message: 'Не удалось связаться с порталом {url}.',
    action: 'Проверьте подключение к сети и адрес портала в настройках. Повторите попытку позже.',
  },
  PORTAL_TLS_UNTRUSTED: {
    title: 'Сертификат портала не доверенный',
    message: 'Портал {url} предъявил сертификат, которому рабочее место не доверяет.',
    action: 'Проверьте адрес портала и установку корневого сертификата. Обратитесь к администратору.',
  },
  PORTAL_ERROR: {
    title: 'Ошибка портала',
    message: 'Портал не смог обработать запрос.',
    action: 'Повторите попытку позже. Если ошибка повторяется, обратитесь в поддержку.',
  },
  SESSION_EXPIRED: {
    title: 'Сеанс завершён',
    message: 'Сеанс работы завершён.',
    action: 'Войдите снова.',
  },
  CREDENTIALS_INVALID: {
    title: 'Неверный логин или пароль',
    message: 'Логин (телефон, электронная почта или СНИЛС) или пароль введены неверно.',
    action: 'Проверьте раскладку клавиатуры и Caps Lock. Если забыли пароль, восстановите его по коду.',
  },
  ACCOUNT_LOCKED: {
    title: 'Учётная запись временно заблокирована',
    message: 'После нескольких неудачных попыток вход заблокирован до {unlockAt}.',
    action: 'Подождите до указанного времени или восстановите пароль по коду. Для входа можно использовать токен с электронной подписью.',
  },
  OTP_INVALID: {
    title: 'Неверный код подтверждения',
    message: 'Код не подошёл. Осталось попыток: {attemptsLeft}.',
    action: 'Введите 6 цифр из последнего сообщения. Если код не приходит, запросите новый.',
  },
  OTP_EXPIRED: {
    title: 'Код подтверждения устарел',
    message: 'Код действует 5 минут и только один раз.',
    action: 'Запросите новый код и введите его.',
  },
  PASSWORD_WEAK: {
    title: 'Пароль слишком простой',
    message: 'Пароль должен быть не короче {minLength} символов и содержать буквы и цифры.',
    action: 'Придумайте другой пароль.',
  },
  ACCESS_DENIED: {
    title: 'Нет доступа',
    message: 'Вашей роли или организации это действие недоступно.',
    action: 'Если доступ нужен для работы, обратитесь к администратору.',
  },
  NOT_FOUND: {
    title: 'Не найдено',
    message: 'Запись не найдена или удалена.',
    action: 'Обновите список и проверьте условия поиска.',
  },
  VERSION_CONFLICT: {
    title: 'Запись изменена другим пользователем',
    message: 'Пока вы работали с записью, её сохранил другой пользователь.',
    action: 'Обновите запись и внесите свои изменения снова.',
  },
  // --- registrar: local store and sync ---
  FIELD_INVALID: {
    title: 'Проверьте поле «{field}»',
    message: '{reason}',
    action: 'Исправьте значение и сохраните снова. Введённые данные сохранены в форме.',
  },
  SLOT_TAKEN: {
    title: 'Время уже занято',
    message: 'На это время уже записан другой пациент.',
    action: 'Выберите другое свободное время.',
  },
  OFFLINE_LOGIN_UNAVAILABLE: {
    title: 'Вход без сети невозможен',
    message: 'Портал недоступен, а на этом компьютере нет действующего входа для этой учётной записи: без сети можно войти в течение {days} дн. после последнего входа с сетью.',
    action: 'Подключитесь к сети и войдите обычным способом или обратитесь к администратору.',
  },
  OFFLINE_SESSION: {
    title: 'Нужен вход с сетью',
    message: 'Вы работаете без сети. Это действие требует связи с порталом.',
    action: 'Когда связь появится, войдите снова: накопленные изменения будут отправлены.',
  },
  STORE_UNAVAILABLE: {
    title: 'Локальная база недоступна',
    message: 'Не удалось открыть локальную базу данных рабочего места.',
    action: 'Перезапустите программу. Если ошибка повторяется, обратитесь к администратору: данные не удалены.',
  },
  RATE_LIMITED: {
    title: 'Слишком много попыток',
    message: 'Слишком много запросов за короткое время.',
    action: 'Подождите минуту и повторите.',
  },
  // --- generic ---
  INVALID_INPUT: {
    title: 'Неверные данные',
    message: 'Данные запроса не прошли проверку.',
    action: 'Проверьте введённые значения.',
  },
  CANCELLED: {
    title: 'Операция отменена',
    message: 'Операция прервана по вашей команде. Токен освобождён, данные не изменены.',
    action: 'Повторите действие, когда будете готовы.',
  },
  BUSY: {
    title: 'Операция уже выполняется',
    message: 'Дождитесь окончания текущей операции.',
    action: 'Повторите через несколько секунд.',
  },
  INTERNAL: {
    title: 'Внутренняя ошибка',
    message: 'Произошла непредвиденная ошибка.',
    action: 'Повторите действие. Если ошибка повторяется, сообщите администратору время ошибки.',
  },
} as const satisfies Record<string, ErrorText>

export type ErrorCode = keyof typeof ERRORS
export const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]

/** Values that refine a message: tries left, dates, paths. Plain data only. */
export type ErrorParams = Record<string, string | number | boolean | null>

/** An error as it crosses a process or network boundary. No stack, no CKR text. */
export interface AppErrorData {
  code: ErrorCode
  params: ErrorParams
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly params: ErrorParams
  /** Technical detail for the log only (CKR name, library error, HTTP status). */
  readonly details: string | undefined

  constructor(code: ErrorCode, params: ErrorParams = {}, details?: string, options?: { cause?: unknown }) {
    super(`${code}${details ? `: ${details}` : ''}`, options)
    this.name = 'AppError'
    this.code = code
    this.params = params
    this.details = details
  }

  toData(): AppErrorData {
    return { code: this.code, params: this.params }
  }

  static is(e: unknown, code?: ErrorCode): e is AppError {
    return e instanceof AppError && (code === undefined || e.code === code)
  }

  static fromData(d: AppErrorData): AppError {
    return new AppError(d.code, d.params)
  }
}

/** Anything thrown becomes an AppError; unknown failures become INTERNAL with detail for the log. */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e
  const details = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  return new AppError('INTERNAL', {}, details, { cause: e })
}

/** Fills {placeholders} of a catalogue text from params. */
export function formatErrorText(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = params[k]
    return v === undefined || v === null ? '' : String(v)
  })
}

export function describeError(d: AppErrorData): ErrorText {
  const t = ERRORS[d.code]
  return {
    title: formatErrorText(t.title, d.params),
    message: formatErrorText(t.message, d.params),
    action: formatErrorText(t.action, d.params),
  }
}
